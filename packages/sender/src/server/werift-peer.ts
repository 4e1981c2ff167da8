import type { IceServer } from '@mmsc/protocol';
import { type PeerConfig, type RTCLocalSessionDescriptionInit, RTCPeerConnection, type SessionDescription } from 'werift';

/**
 * A werift peer that asks only the ICE servers it is given. werift fills in
 * `stun:stun.l.google.com:19302` for an ICE agent without a STUN server even when `iceServers` is
 * empty, so every connection would query a third party (and, without DNS, wait ~5 s for it). Before
 * each local description (where werift gathers) this peer sets each ICE agent's `stunServer` (typed
 * public in werift's `IceConnection`, reached through `RTCPeerConnection.iceTransports`) back to
 * the one configured, or to none.
 *
 * werift uses one STUN and one TURN server: the first `stun:` URL and the first `turn:`/`turns:`
 * URL given; the rest are ignored here (a browser uses them all).
 */
export class ConfiguredPeerConnection extends RTCPeerConnection {
  constructor(
    readonly iceServers: readonly IceServer[],
    config: Partial<Omit<PeerConfig, 'iceServers'>> = {},
  ) {
    super({ ...config, iceServers: iceServers.map((s) => ({ ...s })) });
  }

  /** Each ICE agent's STUN server is the configured one or none; werift's default is removed. */
  pinStunServers(): void {
    if (this.iceServers.some((s) => s.urls.startsWith('stun:'))) return; // werift parsed and uses the first
    for (const t of this.iceTransports) t.connection.stunServer = undefined;
  }

  override setLocalDescription(description: { type: 'rollback' }): Promise<void>;
  override setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<SessionDescription>;
  override setLocalDescription(description?: RTCLocalSessionDescriptionInit | { type: 'rollback' }): Promise<unknown> {
    this.pinStunServers();
    return super.setLocalDescription(description as RTCLocalSessionDescriptionInit);
  }
}
