/**
 * The records the console reads, as the gateway's admin and user APIs show them. Fields that the backend is still adding
 * (limits, expiry, status) are optional: a console on an older gateway shows a dash for them.
 */
export type Role = 'admin' | 'user';

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface ApiKey {
  id: number;
  name: string;
  email: string;
  role: Role;
  group_id: number | null;
  month_quota: number;
  month_fee: number;
  balance: number;
  total_fee: number;
  key_hint: string;
  created_at: string;
  updated_at: string;
  rpm_limit?: number | null;
  tpm_limit?: number | null;
  max_parallel?: number | null;
  expires_at?: string | null;
  status?: 'active' | 'disabled';
}

/** apply and reset answer the key with its plaintext, shown once. */
export interface IssuedKey extends ApiKey {
  api_key: string;
}

export interface Group {
  id: number;
  name: string;
  created_at: string;
  updated_at: string;
  rpm_limit?: number | null;
  tpm_limit?: number | null;
  max_parallel?: number | null;
}

export type Provider = 'bedrock-converse' | 'bedrock-embeddings' | 'openai-compatible';
export const PROVIDERS: Provider[] = ['bedrock-converse', 'bedrock-embeddings', 'openai-compatible'];

export interface Model {
  id: number;
  name: string;
  group_id: number | null;
  multiple: boolean;
  provider: string;
  /** Absent in /user/model/list: users never see upstream configuration. */
  config?: Record<string, unknown>;
  price_in: number;
  price_out: number;
  price_cache_read: number | null;
  price_cache_write: number | null;
  /** Calls are not charged (an explicit admin choice); absent in /user/model/list. */
  free?: boolean;
  created_at: string;
  updated_at: string;
}

export interface Payment {
  id: number;
  key_id: number;
  amount: number;
  balance_after: number;
  created_at: string;
}

export interface Session {
  id: number;
  key_id: number;
  session_key: string;
  title: string;
  tokens_in: number;
  tokens_out: number;
  fee: number;
  thread_count?: number;
  created_at: string;
  updated_at: string;
}

export interface Thread {
  id: number;
  key_id: number;
  session_id: number | null;
  kind?: string;
  request_id?: string;
  model: string;
  model_id?: string;
  prompt: string;
  completion: string;
  reasoning: string;
  tool_calls: unknown;
  finish_reason: string | null;
  tokens_in: number;
  tokens_out: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  price_in?: number;
  price_out?: number;
  fee: number;
  first_byte_latency: number | null;
  total_latency: number | null;
  status: string;
  error: string | null;
  created_at: string;
}

export interface StatRow {
  day: string;
  key_id: number;
  model: string;
  requests: number;
  tokens_in: number;
  tokens_out: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  fee: number;
}

export interface Usage {
  from: string;
  to: string;
  items: StatRow[];
  totals: { requests: number; tokens_in: number; tokens_out: number; tokens_cache_read: number; tokens_cache_write: number; fee: number };
}

export interface FeishuBot {
  id: number;
  name: string;
  provider: string;
  config: {
    appId: string;
    appSecret: string | null;
    apiKey: string;
    modelId: string;
    verificationToken: string | null;
    encryptKey: string | null;
    domain?: string | null;
    systemPrompt?: string | null;
    allowUnsigned?: boolean;
  };
  api_key_id?: number;
  webhook_path: string;
  created_at: string;
  updated_at: string;
}

/** One entry of GET /v1/models (OpenAI shape). */
export interface V1Model {
  id: string;
  object: 'model';
  created?: number;
  owned_by?: string;
}
