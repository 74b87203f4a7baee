import { PassThrough } from 'node:stream';

/**
 * The body of a streaming completion: frames are written as the upstream produces them (no buffering), with
 * `:` keep-alive comments while the model is silent. When the client goes away the stream is destroyed; we
 * abort the upstream call and hold the destruction until the call is settled (charged and recorded), so the
 * Lambda is not frozen with the bill unwritten.
 */
export class SseStream extends PassThrough {
  private lastWrite = Date.now();
  /** Frames made in this turn of the event loop, written together at its end (one write, not one per frame). */
  private pending: string[] = [];
  private readonly timer: NodeJS.Timeout | undefined;
  /** Resolves once the call has been charged and recorded. */
  settled: Promise<unknown> = Promise.resolve();
  onAbort: () => void = () => undefined;

  /**
   * `keepAlive` sends the frame the wire API uses while the model is silent (default: a `: keep-alive` comment;
   * Anthropic's API sends `event: ping`).
   */
  constructor(keepAliveMs: number, keepAlive?: (stream: SseStream) => void) {
    super();
    if (keepAliveMs > 0) {
      const beat = keepAlive ?? ((s: SseStream) => s.comment('keep-alive'));
      this.timer = setInterval(
        () => {
          if (Date.now() - this.lastWrite >= keepAliveMs) beat(this);
        },
        Math.max(10, Math.floor(keepAliveMs / 2)),
      );
      this.timer.unref?.();
    }
  }

  data(payload: unknown): void {
    this.send(`data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
  }

  /** A named event (`event: <name>` + `data: <json>`), as Anthropic's API and the Responses API stream. */
  event(name: string, payload: unknown): void {
    this.send(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  comment(text: string): void {
    this.send(`: ${text}\n\n`);
  }

  close(): void {
    this.stopTimer();
    this.flush();
    if (!this.destroyed && !this.writableEnded) this.end();
  }

  private send(frame: string): void {
    if (this.destroyed || this.writableEnded) return;
    this.lastWrite = Date.now();
    // Upstream events that arrive in one read become frames in one turn: they leave in one write, right after it.
    if (this.pending.push(frame) === 1) process.nextTick(() => this.flush());
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const frames = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    this.pending = [];
    if (!this.destroyed && !this.writableEnded) this.write(frames);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stopTimer();
    if (error) this.onAbort();
    const guard = new Promise((r) => setTimeout(r, 10_000).unref?.());
    void Promise.race([this.settled.catch(() => undefined), guard]).then(() => callback(error));
  }
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};
