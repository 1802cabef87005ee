// node --test against the running messenger example, through the generated TypeScript client
// (compiled by tsc into $SVC_CLIENT/dist). Run by scripts/check-typescript.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";

const base = process.env.BASE_URL;
const client = await import(`${process.env.SVC_CLIENT}/dist/index.js`);
const { ApiError, isApiError, messenger_user_v1: user, messenger_auth_v1: auth } = client;

/** A fetch that counts requests and remembers their bodies. */
function counting() {
  const calls = [];
  const f = async (url, init) => {
    calls.push({ url: String(url), body: init?.body ? JSON.parse(init.body) : undefined });
    return fetch(url, init);
  };
  return { f, calls };
}

const uniq = () => Math.random().toString(36).slice(2, 8);

/** Registers and signs in a new user; the headers that carry the access token (methods under
 * `@security(bearer)` answer 401 without them). */
async function signedIn() {
  const handle = `tok_${uniq()}`;
  const email = `${handle}@example.com`;
  await new user.UserServiceRestClient({ baseUrl: base }).create({ display_name: "Tok", email, handle });
  const login = await new auth.AuthServiceRestClient({ baseUrl: base }).login({ email, password: "password123" });
  return { authorization: `Bearer ${login.tokens.access_token}` };
}

test("REST: create, get, typed not-found error", async () => {
  const rest = new user.UserServiceRestClient({ baseUrl: base, headers: await signedIn() });
  const handle = `ada_${uniq()}`;
  const { user: u } = await rest.create({ display_name: "Ada", email: `${handle}@example.com`, handle });
  assert.equal(u.handle, handle);
  assert.equal(u.role, "Member");
  assert.deepEqual(await rest.get({ id: u.id }), u);
  const missing = "3f2b8c1e-9d4a-4e2b-8f6a-1c2d3e4f5a6b";
  await assert.rejects(rest.get({ id: missing }), (e) => {
    assert.ok(isApiError(e, "USER_NOT_FOUND"));
    assert.equal(e.status, 404);
    assert.equal(e.data.user_id, missing);
    return true;
  });
});

test("JSON-RPC: calls made in the same tick share one batch request", async () => {
  const { f, calls } = counting();
  const rpc = new user.UserServiceJsonRpcClient({ baseUrl: base, fetch: f, headers: await signedIn() });
  const handle = `bob_${uniq()}`;
  const created = await rpc.create({ display_name: "Bob", email: `${handle}@example.com`, handle });
  assert.equal(calls.length, 1);
  const missing = "00000000-0000-4000-8000-000000000000";
  const [got, page, notFound] = await Promise.allSettled([
    rpc.get({ id: created.user.id }),
    rpc.list({ limit: 5 }),
    rpc.get({ id: missing }),
  ]);
  assert.equal(calls.length, 2, "three calls, one batch request");
  assert.ok(Array.isArray(calls[1].body) && calls[1].body.length === 3);
  assert.equal(got.status, "fulfilled");
  assert.equal(got.value.id, created.user.id);
  assert.equal(page.status, "fulfilled");
  assert.ok(page.value.users.length >= 1);
  assert.equal(notFound.status, "rejected");
  assert.ok(isApiError(notFound.reason, "USER_NOT_FOUND"));
  assert.equal(notFound.reason.data.user_id, missing);
  // Without the token: the platform's refusal, typed.
  const anonymous = new user.UserServiceJsonRpcClient({ baseUrl: base });
  await assert.rejects(anonymous.list({}), (e) => isApiError(e, "UNAUTHENTICATED"));
});

test("validation failures come back typed, with every violation", async () => {
  for (const c of [new user.UserServiceJsonRpcClient({ baseUrl: base }), new user.UserServiceRestClient({ baseUrl: base })]) {
    await assert.rejects(c.create({ display_name: "", email: "nope", handle: "X!" }), (e) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, "INVALID_ARGUMENT");
      assert.deepEqual(e.data.violations.map((v) => v.path), ["display_name", "email", "handle", "handle"]);
      return true;
    });
  }
});

test("AbortSignal and timeouts cancel calls", async () => {
  const rpc = new user.UserServiceJsonRpcClient({ baseUrl: base });
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  await assert.rejects(rpc.list({}, { signal: controller.signal }));
  // A loopback server that accepts connections and never answers: only the timeout ends the call.
  const sockets = [];
  const silent = net.createServer((socket) => sockets.push(socket));
  await new Promise((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const rest = new user.UserServiceRestClient({ baseUrl: `http://127.0.0.1:${silent.address().port}` });
  const started = Date.now();
  await assert.rejects(rest.list({}, { timeoutMs: 100 }));
  assert.ok(Date.now() - started < 5000, "the timeout, not the server, ended the call");
  for (const socket of sockets) socket.destroy();
  silent.close();
});

test("headers per call and header results", async () => {
  const rest = new user.UserServiceRestClient({ baseUrl: base });
  const handle = `cy_${uniq()}`;
  const email = `${handle}@example.com`;
  await rest.create({ display_name: "Cy", email, handle });
  const login = await new auth.AuthServiceRestClient({ baseUrl: base }).login({ email, password: "password123" });
  assert.ok(login.tokens.access_token.length > 0);
  for (const s of [new auth.SessionServiceRestClient({ baseUrl: base }), new auth.SessionServiceJsonRpcClient({ baseUrl: base })]) {
    const who = await s.whoami({}, { headers: { authorization: `Bearer ${login.tokens.access_token}` } });
    assert.equal(who.user_id, login.user_id);
    assert.ok(typeof who.expires_at === "string" && who.expires_at.length > 0, "read from the X-Token-Expires header");
  }
  await assert.rejects(new auth.SessionServiceRestClient({ baseUrl: base }).whoami({}), (e) => isApiError(e, "UNAUTHENTICATED"));
});
