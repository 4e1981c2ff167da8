import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A fresh operator token: 24 random bytes, URL-safe (like Jupyter's). */
export function makeToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The token a request carries: `Authorization: Bearer T`, else `?token=T`. */
export function tokenOf(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    if (m) return m[1] as string;
  }
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  return typeof q === 'string' && q.length > 0 ? q : null;
}

/**
 * Constant-time comparison: both sides are hashed first, so neither the length nor the position of
 * the first differing byte shows in the time taken.
 */
export function tokenMatches(given: string | null, expected: string): boolean {
  const a = createHash('sha256')
    .update(given ?? '')
    .digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== null;
}

/** Paths that need the token: signalling, statistics, models. Everything else (the page, /health, /ort) is public. */
export function isProtected(url: string): boolean {
  const path = url.split('?', 1)[0] as string;
  return path === '/signal' || path === '/stats' || path.startsWith('/models/') || path === '/models';
}

/**
 * Whether a browser's Origin may open /signal: the page's own origin (scheme, host and port of the
 * request) or one listed with --allow-origin. Requests without Origin (not from a browser: the probe,
 * curl) pass; the token still applies.
 */
export function originAllowed(req: FastifyRequest, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  const host = req.headers.host;
  if (!host) return false;
  return origin === `${req.protocol}://${host}`;
}

/** `?token=…` replaced by `?token=***` in a URL, for logs. */
export function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1***');
}

export function unauthorized(reply: FastifyReply): FastifyReply {
  return reply.code(401).header('WWW-Authenticate', 'Bearer realm="mmsc"').send({
    error: 'unauthorized',
    message: 'a token is required: open the URL `mmsc serve` printed, or send Authorization: Bearer <token>',
  });
}
