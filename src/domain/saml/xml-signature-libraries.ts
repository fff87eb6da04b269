// xml-crypto and xmldom, loaded the first time a signature needs the general verifier rather than when breakglass
// starts: most documents need only the one-pass verifier (signature-fast-path.ts) or no signature check at all, and
// `metadata inspect` answers sooner without them (issue 15). Both are CommonJS, so they load synchronously here.
import { createRequire } from "node:module";
import type * as XmlCrypto from "xml-crypto";
import type * as Xmldom from "@xmldom/xmldom";

const load = createRequire(import.meta.url);

export function xmlCrypto(): typeof XmlCrypto {
  return load("xml-crypto") as typeof XmlCrypto;
}

export function xmldom(): typeof Xmldom {
  return load("@xmldom/xmldom") as typeof Xmldom;
}
