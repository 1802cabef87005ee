// The transport layer of generated svcc TypeScript clients. No dependencies beyond `fetch`.

/** Options of one call. */
export interface CallOptions {
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Milliseconds before the call is aborted (default: the method's `@timeout`, else 30 s). */
  timeoutMs?: number;
  /** Headers sent with this call. */
  headers?: Record<string, string>;
}

/** Client settings. */
export interface ClientConfig {
  /** `http://127.0.0.1:8080` */
  baseUrl: string;
  /** Where JSON-RPC is served (default `/rpc`). */
  rpcPrefix?: string;
  /** Headers sent with every call. */
  headers?: Record<string, string>;
  /** A `fetch` implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Collect JSON-RPC calls made in the same tick into one batch request (default true). */
  batching?: boolean;
}

/** An error answered by the service: its string code, message and data (a declared error's payload). */
export class ApiError<C extends string = string, D = unknown> extends Error {
  readonly code: C;
  readonly data: D;
  /** The HTTP status (REST) or the JSON-RPC error code. */
  readonly status: number;
  constructor(code: C, message: string, data: D, status: number) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.data = data;
    this.status = status;
  }
}

/** Whether `e` is an `ApiError` with this code (narrows `data` to its payload type). */
export function isApiError<C extends string, D>(e: unknown, code: C): e is ApiError<C, D> {
  return e instanceof ApiError && e.code === code;
}

/** Where a parameter or result travels. */
export type Location = "body" | "path" | "query" | "header" | "cookie";

/** What a generated client knows about one method. */
export interface MethodInfo {
  jsonrpc?: string;
  http?: { method: string; path: string; status: number };
  params: ReadonlyArray<{ name: string; location: Location; key: string }>;
  results: ReadonlyArray<{ name: string; location: Location; key: string; kind: "string" | "number" | "boolean" }>;
  timeoutMs?: number;
}

function withTimeout(opts: CallOptions | undefined, info: MethodInfo): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const ms = opts?.timeoutMs ?? info.timeoutMs ?? 30_000;
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${ms} ms`)), ms);
  const outer = opts?.signal;
  const onAbort = () => controller.abort(outer?.reason);
  if (outer) {
    if (outer.aborted) controller.abort(outer.reason);
    else outer.addEventListener("abort", onAbort, { once: true });
  }
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    },
  };
}

function errorFromRest(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as { code?: string; message?: string; data?: unknown };
  return new ApiError(b.code ?? `HTTP_${status}`, b.message ?? `HTTP ${status}`, b.data, status);
}

function errorFromJsonRpc(e: { code: number; message: string; data?: Record<string, unknown> }): ApiError {
  const { code, ...rest } = (e.data ?? {}) as { code?: string };
  return new ApiError(code ?? String(e.code), e.message, Object.keys(rest).length ? rest : e.data, e.code);
}

function readResults(info: MethodInfo, value: unknown, headers: Headers): unknown {
  if (info.results.length === 0 || typeof value !== "object" || value === null) return value;
  const out = { ...(value as Record<string, unknown>) };
  for (const r of info.results) {
    const text = r.location === "header" ? headers.get(r.key) : null;
    if (text === null) continue;
    out[r.name] = r.kind === "number" ? Number(text) : r.kind === "boolean" ? text === "true" : text;
  }
  return out;
}

interface Pending {
  body: { jsonrpc: "2.0"; method: string; params: Record<string, unknown>; id: number };
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** The JSON-RPC 2.0 transport; calls made in the same tick go out as one batch. */
export class JsonRpcTransport {
  private readonly config: ClientConfig;
  private queue: Pending[] = [];
  private nextId = 1;

  constructor(config: ClientConfig) {
    this.config = config;
  }

  private url(): string {
    return this.config.baseUrl.replace(/\/$/, "") + (this.config.rpcPrefix ?? "/rpc");
  }

  call(info: MethodInfo, params: Record<string, unknown>, opts?: CallOptions): Promise<unknown> {
    if (!info.jsonrpc) return Promise.reject(new ApiError("UNIMPLEMENTED", "not served over JSON-RPC", undefined, 0));
    const body: Record<string, unknown> = {};
    const headers: Record<string, string> = { ...(opts?.headers ?? {}) };
    for (const p of info.params) {
      const v = params[p.name];
      if (v === undefined) continue;
      if (p.location === "header") headers[p.key] = String(v);
      else if (p.location !== "cookie") body[p.name] = v;
    }
    const request = { jsonrpc: "2.0" as const, method: info.jsonrpc, params: body, id: this.nextId++ };
    const batchable = (this.config.batching ?? true) && Object.keys(headers).length === 0 && !opts?.signal && !opts?.timeoutMs;
    if (!batchable) return this.single(info, request, headers, opts);
    return new Promise((resolve, reject) => {
      this.queue.push({ body: request, resolve, reject });
      if (this.queue.length === 1) queueMicrotask(() => void this.flush(info));
    });
  }

  private async single(info: MethodInfo, request: Pending["body"], headers: Record<string, string>, opts?: CallOptions): Promise<unknown> {
    const t = withTimeout(opts, info);
    try {
      const resp = await (this.config.fetch ?? fetch)(this.url(), {
        method: "POST",
        headers: { "content-type": "application/json", ...(this.config.headers ?? {}), ...headers },
        body: JSON.stringify(request),
        signal: t.signal,
      });
      const reply = (await resp.json()) as { result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } };
      if (reply.error) throw errorFromJsonRpc(reply.error);
      return readResults(info, reply.result, resp.headers);
    } finally {
      t.done();
    }
  }

  private async flush(info: MethodInfo): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 1) {
      const only = batch[0]!;
      this.single(info, only.body, {}).then(only.resolve, only.reject);
      return;
    }
    const t = withTimeout(undefined, info);
    try {
      const resp = await (this.config.fetch ?? fetch)(this.url(), {
        method: "POST",
        headers: { "content-type": "application/json", ...(this.config.headers ?? {}) },
        body: JSON.stringify(batch.map((p) => p.body)),
        signal: t.signal,
      });
      const replies = (await resp.json()) as Array<{ id: number; result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } }>;
      for (const p of batch) {
        const r = replies.find((x) => x.id === p.body.id);
        if (!r) p.reject(new ApiError("INTERNAL", "no reply for this call", undefined, 0));
        else if (r.error) p.reject(errorFromJsonRpc(r.error));
        else p.resolve(r.result);
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
    } finally {
      t.done();
    }
  }
}

/** The REST transport: each method through its `@http` binding. */
export class RestTransport {
  private readonly config: ClientConfig;

  constructor(config: ClientConfig) {
    this.config = config;
  }

  async call(info: MethodInfo, params: Record<string, unknown>, opts?: CallOptions): Promise<unknown> {
    if (!info.http) throw new ApiError("UNIMPLEMENTED", "not served over REST", undefined, 0);
    let path = info.http.path;
    const query = new URLSearchParams();
    const headers: Record<string, string> = { ...(this.config.headers ?? {}), ...(opts?.headers ?? {}) };
    const body: Record<string, unknown> = {};
    let hasBody = false;
    for (const p of info.params) {
      const v = params[p.name];
      if (v === undefined || v === null) continue;
      switch (p.location) {
        case "path":
          path = path.replace(`{${p.name}}`, encodeURIComponent(String(v)));
          break;
        case "query":
          if (Array.isArray(v)) for (const item of v) query.append(p.key, String(item));
          else query.append(p.key, String(v));
          break;
        case "header":
          headers[p.key] = String(v);
          break;
        case "cookie":
          break;
        default:
          body[p.name] = v;
          hasBody = true;
      }
    }
    const send = hasBody || !["GET", "DELETE", "HEAD"].includes(info.http.method);
    if (send) headers["content-type"] = "application/json";
    const qs = query.toString();
    const url = this.config.baseUrl.replace(/\/$/, "") + path + (qs ? `?${qs}` : "");
    const t = withTimeout(opts, info);
    try {
      const resp = await (this.config.fetch ?? fetch)(url, {
        method: info.http.method,
        headers,
        body: send ? JSON.stringify(body) : undefined,
        signal: t.signal,
      });
      const text = await resp.text();
      const value: unknown = text ? JSON.parse(text) : undefined;
      if (!resp.ok) throw errorFromRest(resp.status, value);
      return readResults(info, value, resp.headers);
    } finally {
      t.done();
    }
  }
}
