// `@mmsc/sender/testing`: helpers for tests in other packages (kept out of the main entry so that
// no product code depends on them).

export { noisyPatches } from './patches.js';
export { type LogRecord, startTestSender, type TestSender, testModels } from './test-sender.js';
export { fakeStunServer, localAddresses, type SentDatagram, watchUdp } from './udp-watch.js';
