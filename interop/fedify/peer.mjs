// A small, independent ActivityPub server built with Fedify, for colearn's
// interop test (cmd/colearn/fedify_test.go). It has one actor, Person "fedi"
// at http://127.0.0.1:PORT/users/fedi, with an RSA key pair, so everything it
// sends is signed by Fedify (draft-cavage rsa-sha256) and everything it
// receives is verified by Fedify. Its actor requires signed fetches
// (authorized fetch), so fetching it proves the fetcher's GET signature.
//
// It listens on 127.0.0.1 only and prints "LISTENING <port>" on stdout when
// ready. The test drives it through a small JSON control API:
//
//   POST /control/lookup  {"url","unsigned"}         → the object, as Fedify parsed it
//   POST /control/follow  {"actor"}                  → fedi sends Follow to actor
//   POST /control/undo-follow {"actor"}              → fedi sends Undo(Follow)
//   POST /control/reply   {"to","inReplyTo","content"} → fedi sends Create(Note)
//   GET  /control/received                           → activities fedi's inboxes accepted
//   GET  /control/state                              → received, sent, fetches, inbox log, errors
//
// Usage: node peer.mjs [--port N]   (N = 0, the default, picks a free port)
// FEDIFY_DEBUG=1 logs Fedify's own debug output to stderr.

import http from "node:http";
import process from "node:process";
import {
  Accept,
  Activity,
  Announce,
  Create,
  createFederation,
  Endpoints,
  exportJwk,
  Follow,
  generateCryptoKeyPair,
  Group,
  Hashtag,
  importJwk,
  isActor,
  Mention,
  MemoryKvStore,
  Note,
  Person,
  Undo,
  Update,
  PUBLIC_COLLECTION,
} from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";
import { configure, getConsoleSink } from "@logtape/logtape";

const HOST = "127.0.0.1";
const ME = "fedi";

function parseArgs(argv) {
  let port = 0;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--port" && i + 1 < argv.length) port = Number(argv[++i]);
    else if (argv[i].startsWith("--port=")) port = Number(argv[i].slice(7));
    else throw new Error(`unknown argument ${argv[i]}; usage: node peer.mjs [--port N]`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port ${port}`);
  return { port };
}

const log = (...args) => console.error("[fedify-peer]", ...args);

if (process.env.FEDIFY_DEBUG) {
  await configure({
    sinks: { console: getConsoleSink() },
    loggers: [
      { category: "fedify", sinks: ["console"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: ["console"], lowestLevel: "warning" },
    ],
  });
}

// What the test inspects.
const state = {
  received: [], // activities whose signatures Fedify verified, as the listeners saw them
  sent: [], // activities fedi sent, with the outcome
  fetches: [], // authorized-fetch decisions on fedi's actor
  inbox: [], // every POST to an inbox and the status Fedify answered
  followers: new Map(), // follower IRI → the follower actor (a Fedify Actor)
  errors: [],
};

// One RSA key pair (draft-cavage signatures), made at start; kept as JWK so
// the key pairs dispatcher returns the same key every time.
const rsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const rsaJwk = { privateKey: await exportJwk(rsa.privateKey), publicKey: await exportJwk(rsa.publicKey) };

const federation = createFederation({
  kv: new MemoryKvStore(),
  // colearn runs on loopback over plain http in development mode.
  allowPrivateAddress: true,
  userAgent: { software: "colearn-fedify-peer/0.0.0" },
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== ME) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify peer",
      summary: "An independent ActivityPub implementation (Fedify) for colearn's interop tests.",
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher(async (_ctx, identifier) => {
    if (identifier !== ME) return [];
    return [{
      privateKey: await importJwk(rsaJwk.privateKey, "private"),
      publicKey: await importJwk(rsaJwk.publicKey, "public"),
    }];
  })
  // Authorized fetch: only signed GETs whose signature Fedify verified get
  // the actor document; the others get 401.
  .authorize(async (ctx, identifier, signedKey, signedKeyOwner) => {
    const ok = signedKey != null;
    state.fetches.push({
      identifier,
      keyId: signedKey?.id?.href ?? null,
      owner: signedKeyOwner?.id?.href ?? null,
      authorized: ok,
      userAgent: ctx.request.headers.get("user-agent"),
    });
    return ok;
  });

federation.setOutboxDispatcher("/users/{identifier}/outbox", async () => ({ items: [] }));

federation.setFollowersDispatcher("/users/{identifier}/followers", async (_ctx, identifier) => {
  if (identifier !== ME) return null;
  return { items: [...state.followers.values()] };
});

function summarize(activity) {
  return {
    type: activity.constructor.name,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object: activity.objectId?.href ?? null,
    to: activity.toIds.map((u) => u.href),
    cc: activity.ccIds.map((u) => u.href),
    audience: activity.audienceIds.map((u) => u.href),
    at: new Date().toISOString(),
  };
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  // Fedify calls a listener only after the HTTP signature verified and the
  // key's owner is the activity's actor; Activity catches every type.
  .on(Activity, async (ctx, activity) => {
    const rec = summarize(activity);
    rec.recipient = ctx.recipient ?? null; // null: shared inbox
    try {
      rec.json = await activity.toJsonLd({ contextLoader: ctx.contextLoader });
      if (activity instanceof Create || activity instanceof Accept || activity instanceof Update || activity instanceof Undo) {
        const obj = await activity.getObject({ documentLoader: ctx.documentLoader });
        if (obj != null) {
          rec.objectType = obj.constructor.name;
          rec.objectId = obj.id?.href ?? null;
          rec.objectInReplyTo = obj.replyTargetId?.href ?? null;
          rec.objectContent = obj.content?.toString() ?? null;
          if (obj instanceof Note) rec.objectNote = await noteView(ctx, obj);
          if (obj instanceof Announce) {
            // Undo(Announce): which boost, by whom, of what.
            rec.objectActor = obj.actorId?.href ?? null;
            rec.objectObject = obj.objectId?.href ?? null;
          }
          if (obj instanceof Group) {
            // Update(Group): the course as Fedify's vocabulary reads it.
            const key = await obj.getPublicKey({ documentLoader: ctx.documentLoader });
            rec.group = {
              name: obj.name?.toString() ?? null,
              preferredUsername: obj.preferredUsername?.toString() ?? null,
              inbox: obj.inboxId?.href ?? null,
              manuallyApprovesFollowers: obj.manuallyApprovesFollowers,
              discoverable: obj.discoverable,
              publicKeyId: key?.id?.href ?? null,
              publicKeyOwner: key?.ownerId?.href ?? null,
              publicKeyPem: key?.publicKey != null,
              assertionMethods: obj.assertionMethodIds.map((u) => u.href),
            };
          }
        }
      }
    } catch (e) {
      rec.error = String(e);
    }
    state.received.push(rec);
    log("received", rec.type, rec.id, "from", rec.actor);
    if (activity instanceof Follow && activity.objectId?.href === ctx.getActorUri(ME).href) {
      await acceptFollow(ctx, activity);
    } else if (activity instanceof Undo) {
      const inner = await activity.getObject({ documentLoader: ctx.documentLoader }).catch(() => null);
      if (inner instanceof Follow && activity.actorId) state.followers.delete(activity.actorId.href);
    }
  })
  // Key fetches for activities arriving at the shared inbox are signed as
  // fedi too (personal inboxes sign as their owner), so peers with
  // authorized fetch answer them.
  .setSharedKeyDispatcher(() => ({ identifier: ME }))
  .onError((_ctx, error) => {
    state.errors.push({ where: "inbox", error: String(error?.stack ?? error) });
    log("inbox error:", error);
  });

// Someone followed fedi: remember them and send a (signed) Accept back.
async function acceptFollow(ctx, follow) {
  try {
    const follower = await follow.getActor({ documentLoader: ctx.documentLoader });
    if (!isActor(follower)) throw new Error(`follower ${follow.actorId?.href} is not an actor`);
    state.followers.set(follower.id.href, follower);
    const accept = new Accept({
      id: new URL(`#accepts/${crypto.randomUUID()}`, ctx.getActorUri(ME)),
      actor: ctx.getActorUri(ME),
      object: follow,
      to: follower.id,
    });
    await send(ctx, follower, accept);
  } catch (e) {
    state.errors.push({ where: "accept", error: String(e?.stack ?? e) });
    log("accept failed:", e);
  }
}

// send delivers activity to one recipient actor, right away (there is no
// queue), and records the outcome. Delivery errors are thrown.
async function send(ctx, recipient, activity) {
  const rec = { ...summarize(activity), inbox: recipient.inboxId?.href ?? null };
  try {
    await ctx.sendActivity({ identifier: ME }, recipient, activity, { immediate: true });
    rec.ok = true;
  } catch (e) {
    rec.ok = false;
    rec.error = String(e?.message ?? e);
    throw e;
  } finally {
    state.sent.push(rec);
  }
  return rec;
}

async function lookupActor(ctx, iri) {
  const actor = await ctx.lookupObject(iri, { documentLoader: await ctx.getDocumentLoader({ identifier: ME }) });
  if (actor == null) throw new HttpError(404, `lookup ${iri}: not found`);
  if (!isActor(actor)) throw new HttpError(422, `lookup ${iri}: ${actor.constructor.name} is not an actor`);
  return actor;
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// noteView is what a Fedify app reads of a post: its content warning, its
// Mention and Hashtag tags, its thread (context, replies), in Fedify's own
// vocabulary.
async function noteView(ctx, obj) {
  const out = {
    summary: obj.summary?.toString() ?? null,
    sensitive: obj.sensitive ?? null,
    context: obj.contextIds?.[0]?.href ?? null,
    replies: obj.repliesId?.href ?? null,
    tags: [],
  };
  for await (const tag of obj.getTags({ documentLoader: ctx.documentLoader })) {
    const kind = tag instanceof Mention ? "Mention" : tag instanceof Hashtag ? "Hashtag" : tag.constructor.name;
    out.tags.push({ type: kind, name: tag.name?.toString() ?? null, href: tag.href?.href ?? null });
  }
  return out;
}

async function describe(ctx, obj) {
  const out = {
    type: obj.constructor.name,
    id: obj.id?.href ?? null,
    json: await obj.toJsonLd({ contextLoader: ctx.contextLoader }),
  };
  if (obj instanceof Note) Object.assign(out, await noteView(ctx, obj));
  if (isActor(obj)) {
    out.preferredUsername = obj.preferredUsername?.toString() ?? null;
    out.inbox = obj.inboxId?.href ?? null;
    out.sharedInbox = obj.endpoints?.sharedInbox?.href ?? null;
    out.followers = obj.followersId?.href ?? null;
    const key = await obj.getPublicKey({ documentLoader: ctx.documentLoader });
    if (key != null) {
      const pk = await key.publicKey; // CryptoKey, or null when it did not parse
      out.publicKey = {
        id: key.id?.href ?? null,
        owner: key.ownerId?.href ?? null,
        algorithm: pk?.algorithm?.name ?? null,
      };
    }
    out.assertionMethods = [];
    for await (const m of obj.getAssertionMethods({ documentLoader: ctx.documentLoader })) {
      out.assertionMethods.push({
        id: m.id?.href ?? null,
        controller: m.controllerId?.href ?? null,
        algorithm: (await m.publicKey)?.algorithm?.name ?? null,
      });
    }
  }
  return out;
}

const controls = {
  // {"url", "unsigned": bool}: the fetch is signed as fedi unless unsigned.
  "POST /control/lookup": async (ctx, body) => {
    const documentLoader = body.unsigned ? ctx.documentLoader : await ctx.getDocumentLoader({ identifier: ME });
    const obj = await ctx.lookupObject(body.url, { documentLoader });
    if (obj == null) throw new HttpError(404, `lookup ${body.url}: not found`);
    return describe(ctx, obj);
  },
  "POST /control/follow": async (ctx, body) => {
    const target = await lookupActor(ctx, body.actor);
    const follow = new Follow({
      id: new URL(`#follows/${crypto.randomUUID()}`, ctx.getActorUri(ME)),
      actor: ctx.getActorUri(ME),
      object: target.id,
      to: target.id,
    });
    return send(ctx, target, follow);
  },
  "POST /control/undo-follow": async (ctx, body) => {
    const target = await lookupActor(ctx, body.actor);
    const follow = state.sent.find((s) => s.type === "Follow" && s.object === target.id.href);
    const undo = new Undo({
      id: new URL(`#undos/${crypto.randomUUID()}`, ctx.getActorUri(ME)),
      actor: ctx.getActorUri(ME),
      object: new Follow({
        id: follow ? new URL(follow.id) : null,
        actor: ctx.getActorUri(ME),
        object: target.id,
      }),
      to: target.id,
    });
    return send(ctx, target, undo);
  },
  "POST /control/reply": async (ctx, body) => {
    const target = await lookupActor(ctx, body.to);
    const noteId = new URL(`/notes/${crypto.randomUUID()}`, ctx.getActorUri(ME));
    const note = new Note({
      id: noteId,
      attribution: ctx.getActorUri(ME),
      content: body.content ?? "",
      replyTarget: body.inReplyTo ? new URL(body.inReplyTo) : null,
      to: target.id,
      // Public, as a course post must be to be published (colearn keeps
      // direct and followers-only posts out of the discussion).
      ccs: [PUBLIC_COLLECTION, ctx.getFollowersUri(ME)],
      audience: target.id,
      published: Temporal.Now.instant(),
    });
    const create = new Create({
      id: new URL(`${noteId.href}#create`),
      actor: ctx.getActorUri(ME),
      object: note,
      to: target.id,
      // Public, as a course post must be to be published (colearn keeps
      // direct and followers-only posts out of the discussion).
      ccs: [PUBLIC_COLLECTION, ctx.getFollowersUri(ME)],
      audience: target.id,
    });
    const rec = await send(ctx, target, create);
    return { ...rec, note: noteId.href };
  },
  "GET /control/received": async () => state.received,
  "GET /control/state": async () => ({
    received: state.received,
    sent: state.sent,
    fetches: state.fetches,
    inbox: state.inbox,
    followers: [...state.followers.keys()],
    errors: state.errors,
  }),
};

async function control(req, url, raw) {
  const handler = controls[`${req.method} ${url.pathname}`];
  if (handler == null) return [404, { error: `no control ${req.method} ${url.pathname}` }];
  let body = {};
  if (raw.length > 0) body = JSON.parse(raw.toString("utf8"));
  const ctx = federation.createContext(new URL(url.origin), undefined);
  try {
    return [200, await handler(ctx, body)];
  } catch (e) {
    state.errors.push({ where: url.pathname, error: String(e?.stack ?? e) });
    return [e instanceof HttpError ? e.status : 502, { error: String(e?.message ?? e) }];
  }
}

function isInbox(pathname) {
  return pathname === "/inbox" || /^\/users\/[^/]+\/inbox$/.test(pathname);
}

// Fedify speaks fetch's Request and Response; this adapts node:http to it.
async function serve(req, res) {
  const url = new URL(req.url, `http://${req.headers.host ?? `${HOST}`}`);
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const raw = Buffer.concat(chunks);
  if (url.pathname.startsWith("/control/")) {
    const [status, out] = await control(req, url, raw);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(out));
    return;
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v != null) headers.set(k, v);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(url, { method: req.method, headers, body: hasBody ? raw : undefined });
  const response = await federation.fetch(request, {
    contextData: undefined,
    onNotFound: () => new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } }),
    onNotAcceptable: () => new Response("not acceptable\n", { status: 406, headers: { "content-type": "text/plain" } }),
    onUnauthorized: () => new Response("unauthorized\n", { status: 401, headers: { "content-type": "text/plain" } }),
  });
  const out = Buffer.from(await response.arrayBuffer());
  if (req.method === "POST" && isInbox(url.pathname)) {
    state.inbox.push({
      path: url.pathname,
      status: response.status,
      signature: req.headers.signature ?? null,
      signatureInput: req.headers["signature-input"] ?? null,
      response: response.status >= 400 ? out.toString("utf8").slice(0, 500) : undefined,
    });
    log("inbox POST", url.pathname, "→", response.status);
  }
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(out);
}

const { port } = parseArgs(process.argv.slice(2));
const server = http.createServer((req, res) => {
  serve(req, res).catch((e) => {
    state.errors.push({ where: "serve", error: String(e?.stack ?? e) });
    log("request failed:", e);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("internal error\n");
  });
});
server.listen(port, HOST, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
// The test ends the peer by closing stdin (or killing it).
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
