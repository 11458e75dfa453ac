// A frontend's first calls, type-checked against the generated schema (src/schema.d.ts):
// sign in, read "me", page through a list, and handle the error envelope by its code.
// If the contract changes in a way a client would feel, `tsc --noEmit` fails here.
import createClient from "openapi-fetch";

import type { components, operations, paths } from "./schema";

type ErrorOut = components["schemas"]["ErrorOut"];
type UserOut = components["schemas"]["UserOut"];
type AuditEventOut = components["schemas"]["AuditEventOut"];

// Every error the API itself answers is the envelope; a few come from the HTTP server in front
// of it (414, an over-long URL) as text, and are wrapped here so callers see one shape.
function envelope(status: number, error: ErrorOut | string): ErrorOut {
  if (typeof error !== "string") return error;
  return { error: { code: `http_${status}`, message: error.slice(0, 200), details: null, request_id: "" } };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    error: ErrorOut | string,
    readonly body: ErrorOut = envelope(status, error),
  ) {
    super(`${status} ${body.error.code}: ${body.error.message}`);
  }

  get code(): string {
    return this.body.error.code;
  }
}

export function connect(baseUrl: string) {
  let accessToken: string | null = null;
  const client = createClient<paths>({ baseUrl });
  client.use({
    onRequest({ request }) {
      if (accessToken) request.headers.set("Authorization", `Bearer ${accessToken}`);
      return request;
    },
  });

  return {
    async login(email: string, password: string): Promise<void> {
      // `mode` has a default, so it is optional in the request body.
      const { data, error, response } = await client.POST("/api/v1/auth/login", {
        body: { email, password },
      });
      if (error !== undefined) throw new ApiError(response.status, error);
      if (data.token_type !== "bearer") throw new Error("expected tokens, got a cookie session");
      accessToken = data.access_token;
    },

    async me(): Promise<UserOut> {
      const { data, error, response } = await client.GET("/api/v1/auth/me");
      if (error !== undefined) throw new ApiError(response.status, error);
      return data;
    },

    async auditEvents(
      query: operations["audit_events_list"]["parameters"]["query"],
    ): Promise<{ items: AuditEventOut[]; count: number; nextPage: number | null }> {
      const { data, error, response } = await client.GET("/api/v1/audits", {
        params: { query },
      });
      if (error !== undefined) throw new ApiError(response.status, error);
      const last = data.page * data.page_size >= data.count;
      return { items: data.items, count: data.count, nextPage: last ? null : data.page + 1 };
    },
  };
}

export async function example(): Promise<void> {
  const api = connect("http://127.0.0.1:8000");
  try {
    await api.login("ann@example.com", "correct-horse-battery-staple");
    const me = await api.me();
    const role: "user" | "staff" | "admin" = me.role;
    const page = await api.auditEvents({ action: "invoice.*", page: 1, page_size: 50 });
    const first: string | undefined = page.items[0]?.actor.label;
    console.log(me.email, role, page.count, page.nextPage, first);
  } catch (failure) {
    if (failure instanceof ApiError && failure.code === "login_locked") {
      console.log("locked out; retry later:", failure.body.error.request_id);
    } else {
      throw failure;
    }
  }
}
