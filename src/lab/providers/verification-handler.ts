import type { LabPlan } from "../topology.ts";
import { formatFailures, verifyUnderlay, type CheckOutcome } from "../../verify/underlay.ts";
import type { Handler } from "./handler.ts";

export interface VerificationInputs {
  plan: LabPlan;
  deadlineMs: number;
}

export interface VerificationOutputs extends VerificationInputs {
  passed: number;
  failed: number;
  checks: CheckOutcome[];
  verifiedAt: string;
}

async function verify(inputs: VerificationInputs): Promise<VerificationOutputs> {
  const report = await verifyUnderlay(inputs.plan, inputs.deadlineMs);
  if (!report.ok) throw new Error(formatFailures(report));
  return {
    ...inputs,
    passed: report.checks.length,
    failed: 0,
    checks: report.checks,
    verifiedAt: new Date().toISOString(),
  };
}

/** Verification as a resource: it runs when the lab is created or changes, and fails the update if a check fails. */
export const verificationHandler: Handler<VerificationInputs, VerificationOutputs> = {
  replaceOn: [],
  async create(inputs) {
    return { id: `verify-${inputs.plan.stack}`, outs: await verify(inputs) };
  },
  async read(_id, props) {
    return props;
  },
  async update(_id, _olds, news) {
    return verify(news);
  },
  async delete() {},
};
