// What an AWS failure means to the caller: the SDK's own errors, as IAM and STS throw them, classified by what can be
// done about them (retry, ask for access, look elsewhere) rather than all reported alike.
import { IAMServiceException, NoSuchEntityException } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { awsErrorCode, toFactError } from "../../../src/adapters/aws/aws-error.js";
import { kindOf, BreakglassError } from "../../../src/domain/errors.js";

/** An IAM error as the SDK builds it from AWS's answer: the error name, the fault and the HTTP status. */
function iamError(name: string, status: number, message = `${name} from AWS`): IAMServiceException {
  return new IAMServiceException({
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
    message,
  });
}

const kind = (error: unknown) =>
  kindOf(new BreakglassError(awsErrorCode(error), "arn:aws:iam::111111111111:saml-provider/Okta", "reason"));

describe("awsErrorCode", () => {
  it("calls throttling, 5xx, timeouts and network failures unavailable: retrying may work", () => {
    for (const error of [
      iamError("Throttling", 400, "Rate exceeded"),
      iamError("ServiceFailure", 500),
      iamError("SomethingNew", 503),
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), { code: "ECONNREFUSED" }),
    ]) {
      expect(awsErrorCode(error), toFactError(error).code).toBe("AWS_UNAVAILABLE");
      expect(kind(error)).toBe("unavailable");
    }
    const timeout = Object.assign(new Error("Connection timed out after 5000 ms"), { name: "TimeoutError" });
    expect(awsErrorCode(timeout)).toBe("AWS_UNAVAILABLE");
  });

  it("calls AccessDenied, bad credentials, 401 and 403 refused: ask for access", () => {
    for (const error of [
      iamError("AccessDenied", 403),
      iamError("InvalidClientTokenId", 403),
      iamError("ExpiredToken", 400),
      iamError("SomethingNew", 401),
    ]) {
      expect(awsErrorCode(error)).toBe("AWS_DENIED");
      expect(kind(error)).toBe("refused");
    }
  });

  it("calls NoSuchEntity and 404 not found", () => {
    const missing = new NoSuchEntityException({
      $metadata: { httpStatusCode: 404 },
      message: "The SAML provider arn:aws:iam::111111111111:saml-provider/Okta does not exist.",
    });
    expect(awsErrorCode(missing)).toBe("AWS_NOT_FOUND");
    expect(kind(missing)).toBe("not-found");
  });

  it("reads the FactError a check already made of the SDK's error the same way", () => {
    expect(awsErrorCode(toFactError(iamError("Throttling", 400)))).toBe("AWS_UNAVAILABLE");
    expect(awsErrorCode(toFactError(iamError("AccessDenied", 403)))).toBe("AWS_DENIED");
    expect(
      awsErrorCode({ code: "HTTP502", message: "HTTP 502 with a response that is not an AWS error document" }),
    ).toBe("AWS_UNAVAILABLE");
  });

  it("leaves any other AWS error internal: breakglass does not know what to advise", () => {
    const invalid = iamError("InvalidInput", 400, "1 validation error detected");
    expect(awsErrorCode(invalid)).toBe("AWS_FAILED");
    expect(kind(invalid)).toBe("internal");
  });
});
