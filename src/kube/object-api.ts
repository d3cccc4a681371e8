import {
  ApiException,
  HttpMethod,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
  type ResponseContext,
} from "@kubernetes/client-node";
import type { KindRef, KubeObject, ObjectRef } from "./types.js";

/** Marks a request whose response is handed back as text instead of a generated model. */
const RAW = "kubeyard:raw";

export interface RawResponse {
  status: number;
  text: string;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON, which is also valid YAML for the apply-patch content type. */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * client-node's dynamic object API, kept for what it does well (discovery of a kind's REST path
 * and whether it is namespaced, TLS and auth from the KubeConfig, middleware) while requests and
 * responses stay plain JSON: its model serializer renames and drops fields (see types.ts).
 */
class RawObjectApi extends KubernetesObjectApi {
  useContextNamespace(kc: KubeConfig): void {
    this.setDefaultNamespace(kc);
  }

  /**
   * The REST path of one object (`read`) or of a kind's collection (`list`). A kind the server does
   * not serve fails with a 404 KubeApiError, the same as a request for it would.
   */
  async path(ref: ObjectRef, action: "read" | "list"): Promise<string> {
    if (!(await this.lookup(ref))) {
      throw new KubeApiError(`the API server does not serve ${ref.kind} in ${ref.apiVersion}`, 404, "NotFound");
    }
    const spec = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
    return this.specUriPath(spec, action);
  }

  /** Whether the API serves the kind, and if so whether it is namespaced. */
  async lookup(kind: KindRef): Promise<{ namespaced: boolean; plural: string } | undefined> {
    try {
      const resource = await this.resource(kind.apiVersion, kind.kind);
      return resource && { namespaced: resource.namespaced, plural: resource.name };
    } catch (error) {
      // A group/version the server does not serve at all (its CRD is gone, say) answers 404.
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  async send(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const ctx = this.configuration.baseServer.makeRequestContext(path, method);
    ctx.setHeaderParam("Accept", "application/json, */*;q=0.8");
    for (const [name, value] of Object.entries(opts.query ?? {})) {
      if (value !== undefined) ctx.setQueryParam(name, String(value));
    }
    if (opts.body !== undefined) {
      ctx.setHeaderParam("Content-Type", opts.contentType ?? "application/json");
      ctx.setBody(JSON.stringify(opts.body));
    }
    if (opts.signal) ctx.setSignal(opts.signal);
    return (await this.requestPromise(ctx, RAW)) as unknown as RawResponse;
  }

  protected override async processResponse<T extends KubernetesObject>(response: ResponseContext, type?: string): Promise<T> {
    if (type !== RAW) return super.processResponse<T>(response, type);
    const text = await response.body.text();
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      throw new ApiException(response.httpStatusCode, "Unsuccessful HTTP Request", text, response.headers);
    }
    return { status: response.httpStatusCode, text } as unknown as T;
  }
}

// One API object per KubeConfig, so discovery answers are cached across calls.
const apis = new WeakMap<KubeConfig, RawObjectApi>();

export function objectApi(kc: KubeConfig): RawObjectApi {
  let api = apis.get(kc);
  if (!api) {
    api = kc.makeApiClient(RawObjectApi);
    api.useContextNamespace(kc);
    apis.set(kc, api);
  }
  return api;
}

/**
 * An API error with the server's own explanation (its Status message) instead of client-node's
 * dump of headers; `code` is the HTTP status, 0 when the server could not be reached.
 */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

/** Turns whatever a request threw into a KubeApiError saying what was being done. */
export function apiError(doing: string, error: unknown): KubeApiError {
  if (error instanceof KubeApiError) return error;
  if (error instanceof ApiException) {
    const status = parseStatus(error.body);
    const detail = status?.message ?? (typeof error.body === "string" && error.body.trim() ? error.body.trim() : "no details");
    return new KubeApiError(`${doing}: ${detail} (HTTP ${error.code})`, error.code, status?.reason);
  }
  const cause = error as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  const detail = cause?.cause?.message ?? cause?.message ?? String(error);
  return new KubeApiError(`${doing}: ${detail}`, 0);
}

function parseStatus(body: unknown): { message?: string; reason?: string } | undefined {
  if (typeof body !== "string") return undefined;
  try {
    const parsed = JSON.parse(body) as { kind?: string; message?: string; reason?: string };
    return parsed.kind === "Status" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function isNotFound(error: unknown): boolean {
  return (error instanceof KubeApiError || error instanceof ApiException) && error.code === 404;
}

/** A request whose answer is JSON; errors become KubeApiErrors naming `doing`. */
export async function requestJson<T = unknown>(
  kc: KubeConfig,
  method: HttpMethod,
  path: string,
  doing: string,
  opts: RequestOptions = {},
): Promise<T> {
  try {
    const res = await objectApi(kc).send(method, path, opts);
    return (res.text ? JSON.parse(res.text) : undefined) as T;
  } catch (error) {
    throw apiError(doing, error);
  }
}

export interface ObjectList {
  items: KubeObject[];
  resourceVersion: string;
}

export interface ListQuery extends ObjectRef {
  labelSelector?: string;
  fieldSelector?: string;
}

/** Lists a kind (in one namespace, or everywhere); `name` narrows it to one object by field selector. */
export async function listObjects(kc: KubeConfig, query: ListQuery, signal?: AbortSignal): Promise<ObjectList> {
  const api = objectApi(kc);
  const path = await api.path({ ...query, name: undefined }, "list");
  const list = await requestJson<{ items?: KubeObject[]; metadata?: { resourceVersion?: string } }>(
    kc,
    HttpMethod.GET,
    path,
    `list ${query.kind}`,
    { query: { labelSelector: query.labelSelector, fieldSelector: combinedFieldSelector(query) }, signal },
  );
  // A list's items carry no apiVersion/kind; give them back so callers can name them.
  const items = (list.items ?? []).map((item) => ({ apiVersion: query.apiVersion, kind: query.kind, ...item }));
  return { items, resourceVersion: list.metadata?.resourceVersion ?? "" };
}

export function combinedFieldSelector(query: ListQuery): string | undefined {
  const parts = [query.name !== undefined ? `metadata.name=${query.name}` : undefined, query.fieldSelector].filter(Boolean);
  return parts.length ? parts.join(",") : undefined;
}

/** One object, or undefined when it does not exist. */
export async function getObject(kc: KubeConfig, ref: ObjectRef): Promise<KubeObject | undefined> {
  const path = await objectApi(kc).path(ref, "read");
  try {
    return await requestJson<KubeObject>(kc, HttpMethod.GET, path, `get ${ref.kind} ${ref.name}`);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Deletes one object; an object already gone is not an error. Returns whether it was there. */
export async function deleteObject(kc: KubeConfig, ref: ObjectRef, doing: string): Promise<boolean> {
  const path = await objectApi(kc).path(ref, "read");
  try {
    // Background: the object goes at once and the garbage collector removes what it owns.
    // Foreground would leave it behind a finalizer until every dependent is gone.
    await requestJson(kc, HttpMethod.DELETE, path, doing, { query: { propagationPolicy: "Background" } });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** A JSON merge patch of an object's status subresource (a Service's load-balancer status, say). */
export async function mergePatchStatus(kc: KubeConfig, ref: ObjectRef, patch: unknown, signal?: AbortSignal): Promise<KubeObject> {
  const path = `${await objectApi(kc).path(ref, "read")}/status`;
  return requestJson<KubeObject>(kc, HttpMethod.PATCH, path, `update the status of ${ref.kind} ${ref.namespace ?? ""}/${ref.name}`, {
    body: patch,
    contentType: "application/merge-patch+json",
    signal,
  });
}
