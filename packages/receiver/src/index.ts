export { type CollectedFrame, FrameCollector, feedbackFor, MISSING } from './collect-frame.js';
export {
  type EnginePicture,
  ffmpegVideoDecoders,
  type PictureSource,
  type ReceiverPlatform,
  type VideoCodec,
  type VideoDecoderProvider,
  videoPortOf,
} from './engines/picture-source.js';
export { pictureSource, receiverEngines } from './engines/registry.js';
export { type ApplyStats, type PatchDecoder, Reassembler } from './reassemble.js';
export { UnsupportedVideoFormatError, type VideoDecoderFactory, type VideoDecoderPort, VideoPicture } from './reassemble-video.js';
export {
  type FinishedFrame,
  FrameReceiver,
  type FrameReceiverOptions,
  type Receipt,
  type ReceiverCounters,
  type ReceiverDecoders,
  SessionPicture,
  type TrackReceipt,
} from './receive/frame-receiver.js';
export {
  type ChannelLike,
  type ConnectionEnd,
  type ConnectionEvents,
  type ConnectionOptions,
  type MediaSink,
  type PeerLike,
  ReceiverConnection,
  type SignalSocket,
  type TrackControl,
} from './receive/receiver-connection.js';
export {
  type DecoderIdentity,
  type DecoderMismatchCode,
  DecoderMismatchError,
  decoderIdentities,
  type IdentifiedDecoders,
  verifyDecoders,
} from './receive/verify-decoders.js';
export { DEFAULT_DELAY_WINDOW_MS, DelayFloor, type DelayFloorOptions } from './rtp/delay-floor.js';
export { type NackCounters, NackList, type NackOptions } from './rtp/nack-list.js';
export {
  type AssembledPicture,
  type AssemblerCounters,
  type AssemblerOptions,
  type AssemblerOutput,
  DEFAULT_RTP_DEADLINE_MS,
  RtpAssembler,
  type RtpPacketIn,
  repairDeadline,
} from './rtp/rtp-assembler.js';
export {
  DEFAULT_FRESH_MS,
  DEFAULT_STALE_MS,
  type EncodedPictureIn,
  type RtpDepacketizer,
  RtpVideo,
  type RtpVideoCounters,
  type RtpVideoOptions,
  type RtpVideoOutput,
} from './rtp/rtp-video.js';
export {
  type CutPicture,
  cutPictureTrailer,
  type TrailerLayout,
  trackFrame,
  trailerLayoutOf,
} from './rtp/track-picture.js';
export { TwccRecorder, type TwccRecorderCounters, type TwccRecorderOptions } from './rtp/twcc-recorder.js';
export { type DecodedPicture, type DecoderReady, LocalDecoding, type PictureDecoding } from './session/decoding.js';
export { Emitter } from './session/emitter.js';
export { type LinkQuality, linkQuality } from './session/link-quality.js';
export { type FrameRecord, LinkStats, type SenderRate, type StatsSummary, senderRateOf } from './session/link-stats.js';
export { type QueryPorts, type QueryState, QueryWorkflow, type Wanted } from './session/query.js';
export {
  type ReceivingEvents,
  ReceivingSession,
  type ReceivingSessionOptions,
  type SessionError,
  type ShownPicture,
} from './session/receiving-session.js';
export { LINK_LABEL, type LinkState, refusalReason, SessionMachine, type StageMessage } from './session/reconnect.js';
export { adoptEarlySignal, type EarlyEvent, type EarlySignal, ReplaySocket } from './session/replay-socket.js';
export {
  type LinkEnd,
  type LinkEvents,
  type LinkOptions,
  type LinkTransport,
  PAGE_RETRY,
  type RetryPolicy,
  SignalLink,
} from './session/signal-link.js';
export { STALE_HOLD_MS, StaleHold, type StaleHoldTimers } from './session/stale-hold.js';
