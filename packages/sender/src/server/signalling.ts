// The signalling schema lives in @mmsc/protocol (the page and `mmsc probe` validate with it too);
// this re-export keeps the server's existing imports (session.test.ts, peer.test.ts) working.
export { checkAnswerSdp, MAX_SIGNAL_BYTES, parseSignal, SignalError, type SignalMessage } from '@mmsc/protocol';
