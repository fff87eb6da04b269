// A loopback proxy in front of moto that answers iam:SimulatePrincipalPolicy (which moto 5.2.5 does not implement) as
// the IAM API reference documents it, by judging the principal's inline and attached policies simply; everything else
// goes on to moto unchanged.
import { Agent, createServer, request as forwardRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
} from "@aws-sdk/client-iam";
import { forward } from "./fault-proxy.js";

export interface IamSimulatorOptions {
  /**
   * Keys that may read every principal's policies (an administrator's, needed once moto enforces IAM); without them,
   * moto's `testing` key with the principal's account in `x-moto-account-id`.
   */
  readonly readerCredentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface SimulationRequest {
  readonly policySourceArn: string;
  readonly actionNames: readonly string[];
  readonly resourceArns: readonly string[];
}

export interface IamSimulatorProxy {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL in place of moto's. */
  readonly endpoint: string;
  /** Every SimulatePrincipalPolicy request judged so far, in order. */
  simulations(): readonly SimulationRequest[];
  stop(): Promise<void>;
}

export type Decision = "allowed" | "explicitDeny" | "implicitDeny";

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly NotAction?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: unknown;
}

const NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";

export async function startIamSimulatorProxy(
  target: string,
  options: IamSimulatorOptions = {},
): Promise<IamSimulatorProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const judged: SimulationRequest[] = [];
  let requests = 0;
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.once("end", () => {
      const body = Buffer.concat(chunks);
      const form = new URLSearchParams(body.toString("utf8"));
      if (form.get("Action") !== "SimulatePrincipalPolicy") return forward(incoming, outgoing, upstream, agent, body);
      requests += 1;
      const requestId = `iam-simulator-${String(requests).padStart(8, "0")}`;
      void simulate(incoming, outgoing, form, body, requestId).catch((error: unknown) => {
        if (!outgoing.headersSent) answerError(outgoing, 500, "Receiver", "ServiceFailure", String(error), requestId);
      });
    });
  });

  async function simulate(
    incoming: IncomingMessage,
    outgoing: ServerResponse,
    form: URLSearchParams,
    body: Buffer,
    requestId: string,
  ): Promise<void> {
    // Moto judges whether the caller may call iam:SimulatePrincipalPolicy (when it enforces IAM) before it finds that
    // it has no such operation: a 403 from it is the caller's denial, anything else means go on.
    const authorization = await askUpstream(incoming, upstream, agent, body);
    if (authorization.status === 403) {
      outgoing.writeHead(403, authorization.headers).end(authorization.body);
      return;
    }
    const request: SimulationRequest = {
      policySourceArn: form.get("PolicySourceArn") ?? "",
      actionNames: members(form, "ActionNames"),
      resourceArns: members(form, "ResourceArns"),
    };
    judged.push(request);
    const source = /^arn:[^:]+:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(request.policySourceArn);
    if (source === null) {
      answerError(outgoing, 400, "Sender", "InvalidInput", `Invalid ARN: ${request.policySourceArn}`, requestId);
      return;
    }
    const [, accountId, kind, name] = source as unknown as [string, string, "role" | "user", string];
    let statements: Statement[];
    try {
      statements = await principalStatements(readerClient(upstream, accountId, options), kind, name);
    } catch (error) {
      if (
        (error as { name?: string }).name === "NoSuchEntityException" ||
        (error as { name?: string }).name === "NoSuchEntity"
      ) {
        answerError(
          outgoing,
          404,
          "Sender",
          "NoSuchEntity",
          `The ${kind} with name ${name} cannot be found.`,
          requestId,
        );
        return;
      }
      throw error;
    }
    const resources = request.resourceArns.length > 0 ? request.resourceArns : ["*"];
    const results = request.actionNames.map((action) => {
      const perResource = resources.map((resource) => ({ resource, decision: judge(statements, action, resource) }));
      return { action, perResource, decision: mostRestrictive(perResource.map((each) => each.decision)) };
    });
    const xml =
      `<SimulatePrincipalPolicyResponse xmlns="${NAMESPACE}"><SimulatePrincipalPolicyResult>` +
      "<IsTruncated>false</IsTruncated><EvaluationResults>" +
      results
        .map(
          (result) =>
            `<member><EvalActionName>${escapeXml(result.action)}</EvalActionName>` +
            `<EvalResourceName>${escapeXml(resources[0] ?? "*")}</EvalResourceName>` +
            `<EvalDecision>${result.decision}</EvalDecision><MatchedStatements/><MissingContextValues/>` +
            (request.resourceArns.length === 0
              ? ""
              : "<ResourceSpecificResults>" +
                result.perResource
                  .map(
                    (each) =>
                      `<member><EvalResourceName>${escapeXml(each.resource)}</EvalResourceName>` +
                      `<EvalResourceDecision>${each.decision}</EvalResourceDecision>` +
                      "<MatchedStatements/><MissingContextValues/></member>",
                  )
                  .join("") +
                "</ResourceSpecificResults>") +
            "</member>",
        )
        .join("") +
      `</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>${requestId}</RequestId>` +
      "</ResponseMetadata></SimulatePrincipalPolicyResponse>";
    outgoing
      .writeHead(200, {
        "content-type": "text/xml",
        "x-amzn-requestid": requestId,
        "content-length": Buffer.byteLength(xml),
      })
      .end(xml);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    simulations: () => [...judged],
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          agent.destroy();
          resolve();
        });
      }),
  };
}

/**
 * The simple judgement: an explicit Deny matching the action and resource wins, else any matching Allow, else an
 * implicit deny. Action names match case-insensitively with `*` and `?`, resources case-sensitively. Statements with
 * NotAction, NotResource or a Condition are left out (the policies under test use none).
 */
export function judge(statements: readonly Statement[], action: string, resource: string): Decision {
  const matching = statements.filter(
    (statement) =>
      statement.NotAction === undefined &&
      statement.NotResource === undefined &&
      statement.Condition === undefined &&
      listOf(statement.Action).some((pattern) => globMatches(pattern, action, "i")) &&
      listOf(statement.Resource).some((pattern) => globMatches(pattern, resource, "")),
  );
  if (matching.some((statement) => statement.Effect === "Deny")) return "explicitDeny";
  if (matching.some((statement) => statement.Effect === "Allow")) return "allowed";
  return "implicitDeny";
}

function mostRestrictive(decisions: readonly Decision[]): Decision {
  if (decisions.includes("explicitDeny")) return "explicitDeny";
  if (decisions.includes("implicitDeny")) return "implicitDeny";
  return "allowed";
}

function globMatches(pattern: string, value: string, flags: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, flags).test(value);
}

function listOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** A query-protocol list: `ActionNames.member.1`, `ActionNames.member.2`, … */
function members(form: URLSearchParams, name: string): string[] {
  const found: string[] = [];
  for (let index = 1; form.has(`${name}.member.${index}`); index += 1)
    found.push(form.get(`${name}.member.${index}`) ?? "");
  return found;
}

function readerClient(upstream: URL, accountId: string, options: IamSimulatorOptions): IAMClient {
  const client = new IAMClient({
    region: "us-east-1",
    endpoint: upstream.origin,
    credentials: options.readerCredentials ?? { accessKeyId: "testing", secretAccessKey: "testing" },
  });
  if (options.readerCredentials === undefined) {
    client.middlewareStack.add(
      (next) => (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) request.headers["x-moto-account-id"] = accountId;
        return next(args);
      },
      { step: "build" },
    );
  }
  return client;
}

/** Every statement of the principal's inline and attached policies, as moto holds them (documents URL-encoded, as AWS). */
async function principalStatements(iam: IAMClient, kind: "role" | "user", name: string): Promise<Statement[]> {
  const documents: string[] = [];
  try {
    if (kind === "role") {
      const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: name }));
      for (const policyName of inline.PolicyNames ?? [])
        documents.push(
          (await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }))).PolicyDocument ?? "",
        );
      const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }));
      for (const policy of attached.AttachedPolicies ?? [])
        documents.push(await managedDocument(iam, policy.PolicyArn));
    } else {
      const inline = await iam.send(new ListUserPoliciesCommand({ UserName: name }));
      for (const policyName of inline.PolicyNames ?? [])
        documents.push(
          (await iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: policyName }))).PolicyDocument ?? "",
        );
      const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: name }));
      for (const policy of attached.AttachedPolicies ?? [])
        documents.push(await managedDocument(iam, policy.PolicyArn));
    }
  } finally {
    iam.destroy();
  }
  return documents.flatMap((document) => {
    const parsed = JSON.parse(document.startsWith("{") ? document : decodeURIComponent(document)) as {
      Statement?: Statement | Statement[];
    };
    return parsed.Statement === undefined
      ? []
      : Array.isArray(parsed.Statement)
        ? parsed.Statement
        : [parsed.Statement];
  });
}

async function managedDocument(iam: IAMClient, policyArn: string | undefined): Promise<string> {
  const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy;
  const version = await iam.send(
    new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: policy?.DefaultVersionId }),
  );
  return version.PolicyVersion?.Document ?? "";
}

/** Sends the request on to moto and keeps its whole answer. */
function askUpstream(
  incoming: IncomingMessage,
  upstream: URL,
  agent: Agent,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outbound = forwardRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, connection: "keep-alive" },
        agent,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.once("end", () =>
          resolve({
            status: response.statusCode ?? 502,
            headers: { "content-type": String(response.headers["content-type"] ?? "text/xml") },
            body: Buffer.concat(chunks),
          }),
        );
        response.once("error", reject);
      },
    );
    outbound.once("error", reject);
    outbound.end(body);
  });
}

function answerError(
  outgoing: ServerResponse,
  status: number,
  type: "Sender" | "Receiver",
  code: string,
  message: string,
  requestId: string,
): void {
  const body =
    `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type><Code>${code}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  outgoing
    .writeHead(status, {
      "content-type": "text/xml",
      "x-amzn-requestid": requestId,
      "content-length": Buffer.byteLength(body),
    })
    .end(body);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
