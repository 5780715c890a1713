// An independent verifier of colearn's credentials, built only on Digital
// Bazaar's libraries (the W3C reference implementations): @digitalbazaar/vc,
// @digitalbazaar/data-integrity, @digitalbazaar/eddsa-rdfc-2022-cryptosuite
// and @digitalbazaar/ed25519-multikey, with jsonld.js in safe mode.
//
// Input on stdin: {"credential": {...}, "documents": {"URL": {...}}}.
// The documents are what the verifier may "fetch" (the issuer's actor
// document, the status list credential); contexts come from the same files
// colearn embeds (federation/credential/contexts). Nothing is fetched from
// the network: any other URL is an error.
//
// Output: {"verified": bool, "error": "...", "statusVerified": bool}; exit 0
// only when verified.
import {readFileSync} from 'node:fs';
import {gunzipSync} from 'node:zlib';
import {fileURLToPath} from 'node:url';
import path from 'node:path';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import securityContext from '@digitalbazaar/security-context';

const here = path.dirname(fileURLToPath(import.meta.url));
const contextDir = path.join(here, '..', '..', 'federation', 'credential', 'contexts');
// The same URL → file table as federation/credential/loader.go.
const contextFiles = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://www.w3.org/ns/credentials/examples/v2': 'credentials-examples-v2.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://www.w3.org/ns/credentials/status/v1': 'credentials-status-v1.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-v3p0-context-3.0.3.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json': 'ob-v3p0-extensions.jsonld',
  'https://www.w3.org/ns/activitystreams': 'activitystreams.jsonld',
  'https://w3id.org/security/v1': 'security-v1.jsonld',
  'https://w3id.org/citizenship/v4rc1': 'citizenship-v4rc1.jsonld',
  'https://www.w3.org/ns/did/v1': 'did-v1.jsonld',
};

const input = JSON.parse(readFileSync(0, 'utf8'));
const documents = input.documents || {};

const contexts = new Map();
for(const [url, file] of Object.entries(contextFiles)) {
  contexts.set(url, JSON.parse(readFileSync(path.join(contextDir, file), 'utf8')));
}
// jsonld-signatures frames controller documents with security/v2, which
// colearn does not use; it comes from Digital Bazaar's own package.
contexts.set(securityContext.SECURITY_CONTEXT_V2_URL, securityContext.CONTEXT);

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  const [base, fragment] = url.split('#');
  const doc = documents[base];
  if(!doc) {
    throw new Error(`refusing to load ${url}: not given`);
  }
  if(fragment === undefined) {
    return {contextUrl: null, documentUrl: url, document: doc};
  }
  // A verification method inside its controller document (FEP-521a).
  const methods = [].concat(doc.assertionMethod || [], doc.verificationMethod || []);
  const vm = methods.find(m => typeof m === 'object' && m.id === url);
  if(!vm) {
    throw new Error(`${base} does not publish ${url}`);
  }
  return {
    contextUrl: null, documentUrl: url,
    document: {'@context': 'https://w3id.org/security/multikey/v1', ...vm},
  };
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

// Bitstring Status List, checked by hand: the list must be a credential
// that verifies, from the same issuer, and the entry's bit must be clear.
async function checkStatus({credential}) {
  const entry = credential.credentialStatus;
  if(entry.type !== 'BitstringStatusListEntry' || entry.statusPurpose !== 'revocation') {
    return {verified: false, error: 'unsupported credentialStatus'};
  }
  const {document: list} = await documentLoader(entry.statusListCredential);
  const listResult = await vc.verifyCredential({credential: list, suite, documentLoader});
  if(!listResult.verified) {
    return {verified: false, error: 'status list does not verify: ' + errorOf(listResult)};
  }
  const issuerOf = c => typeof c.issuer === 'object' ? c.issuer.id : c.issuer;
  if(issuerOf(list) !== issuerOf(credential)) {
    return {verified: false, error: 'status list of another issuer'};
  }
  const encoded = list.credentialSubject.encodedList;
  const bits = gunzipSync(Buffer.from(encoded.slice(1), 'base64url'));
  const index = Number(entry.statusListIndex);
  const revoked = (bits[index >> 3] & (0x80 >> (index % 8))) !== 0;
  return {verified: !revoked, error: revoked ? 'revoked' : undefined};
}

function errorOf(result) {
  const errs = [];
  const walk = r => {
    if(!r) return;
    if(r.error) errs.push(r.error.message || String(r.error));
    for(const pr of r.results || []) {
      if(pr.error) errs.push(pr.error.message || String(pr.error));
    }
  };
  walk(result);
  return errs.join('; ');
}

let result;
try {
  result = await vc.verifyCredential({credential: input.credential, suite, documentLoader, checkStatus});
} catch(e) {
  result = {verified: false, error: e};
}
const out = {
  verified: result.verified === true,
  statusVerified: result.statusResult ? result.statusResult.verified : null,
  statusError: result.statusResult ? result.statusResult.error : undefined,
  error: result.verified ? undefined : (errorOf(result) || String(result.error)),
};
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(out.verified ? 0 : 1);
