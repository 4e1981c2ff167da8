// `@mmsc/cli`'s library surface, for scripts (abuse, soak, benches): the headless receiver `probe`, and
// what its peer accepts of a sender's video track (`VIDEO_TRACK_CONFIG`).
// The commands themselves are the `mmsc` binary (bin/mmsc.js); a bare test receiver is `@mmsc/cli/testing`.

export { EXIT_BUSY, type ProbeOptions, ProbeRefusedError, type ProbeResult, probe } from './commands/probe.js';
export { VIDEO_TRACK_CONFIG } from './receive/video-track.js';
