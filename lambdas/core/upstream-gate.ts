/**
 * A call's upstream gate. The pipeline may start a provider before the call is cleared to go — its admission's write
 * is still on the wire, or its key is still being confirmed by a read (store/key-cache.ts) — so that the provider's
 * own work (building, serializing and signing the upstream request) overlaps that round trip instead of following
 * it. The gate rides on the call's abort signal: whatever sends a request upstream on that signal awaits
 * passGate(signal) first, so nothing leaves before the gate opens, and if it fails nothing leaves at all and the send
 * fails with the gate's error. (The Bedrock clients' request handler and the OpenAI-compatible provider's fetch do; a
 * new provider must too.)
 */
const gates = new WeakMap<AbortSignal, Promise<unknown>>();
const passed = new WeakSet<AbortSignal>();

/** Holds every upstream request sent on `signal` until `gate` resolves. */
export function gateSignal(signal: AbortSignal, gate: Promise<unknown>): void {
  gate.catch(() => undefined); // a failed gate is met by whoever passes it (or nobody: then nothing was to be sent)
  gates.set(signal, gate);
}

/** Resolves once a request on `signal` may go upstream; throws the gate's error if it may not. */
export async function passGate(signal: AbortSignal | undefined): Promise<void> {
  const gate = signal && gates.get(signal);
  if (!gate) return;
  await gate;
  passed.add(signal);
}

/** Whether a request on this gated signal went through passGate(): the pipeline checks it (a provider must not skip it). */
export function passedGate(signal: AbortSignal): boolean {
  return passed.has(signal);
}
