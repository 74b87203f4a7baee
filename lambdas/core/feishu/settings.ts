/**
 * Feishu bot tunables, read from the environment on each call (so the local server and tests can set them first).
 * All optional; the defaults are what a deployment normally wants.
 *
 *   FEISHU_MEMORY_TURNS           exchanges of history sent with each message (default 10; 0 disables memory)
 *   FEISHU_MEMORY_WINDOW_MINUTES  only exchanges younger than this are remembered (default 1440 = 24 h)
 *   FEISHU_PATCH_INTERVAL_MS      minimum time between two card patches while streaming (default 400, floor 200)
 *   FEISHU_MAX_ATTACHMENT_BYTES   largest image or file downloaded from a message (default 10 MB)
 *   FEISHU_MAX_ATTACHMENT_TOTAL_BYTES  largest sum of all attachments of one message (default 32 MiB)
 */
export interface FeishuSettings {
  memoryTurns: number;
  memoryWindowMs: number;
  patchIntervalMs: number;
  maxAttachmentBytes: number;
  maxAttachmentTotalBytes: number;
}

function int(v: string | undefined, fallback: number, min = 0): number {
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= min ? n : fallback;
}

export function feishuSettings(env: NodeJS.ProcessEnv = process.env): FeishuSettings {
  return {
    memoryTurns: int(env.FEISHU_MEMORY_TURNS, 10),
    memoryWindowMs: int(env.FEISHU_MEMORY_WINDOW_MINUTES, 1440, 1) * 60_000,
    patchIntervalMs: int(env.FEISHU_PATCH_INTERVAL_MS, 400, 200),
    maxAttachmentBytes: int(env.FEISHU_MAX_ATTACHMENT_BYTES, 10 * 1024 * 1024, 1),
    maxAttachmentTotalBytes: int(env.FEISHU_MAX_ATTACHMENT_TOTAL_BYTES, 32 * 1024 * 1024, 1),
  };
}
