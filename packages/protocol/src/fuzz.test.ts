import { describe, expect, it } from 'vitest';
import { runFuzz } from './testing/fuzz.js';

// 110,000 inputs per run: decodeMessage returns a valid message (which round-trips exactly) or
// throws ProtocolError — never another exception, never a long stall. Fixed seed so a failure
// reproduces; `npm run test:fuzz -- --n 1000000` explores with fresh seeds.
describe('protocol fuzzing', () => {
  it('110k valid, mutated, random and structured inputs', () => {
    const report = runFuzz({ roundTrips: 5_000, mutations: 65_000, randomBytes: 15_000, structured: 25_000 }, 20261127);
    expect(report.total).toBeGreaterThanOrEqual(100_000);
    // The mix must exercise both outcomes and most rejection paths, or the fuzzer is not fuzzing.
    expect(report.accepted).toBeGreaterThan(5_000);
    expect(report.rejected).toBeGreaterThan(50_000);
    expect(Object.keys(report.rejectedByCode).length).toBeGreaterThanOrEqual(10);
    expect(report.maxDecodeMs).toBeLessThan(1_000);
  }, 300_000);
});
