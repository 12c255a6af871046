import { ahlError, isSecretRef, type Lab, type Secrets, selectTargets } from '@ahl/core';
import { type DriftLayer, type DriftReport, gatherDrift, postJson } from '@ahl/ops';
import type { CommandContext, OptionDef } from '../command.js';

/* What `ahl drift` and `ahl reconcile` share: their --layer and --notify, and the drift check of their TARGETs. */

/** --layer and --notify, as drift and reconcile take them. */
export async function driftOptions(ctx: CommandContext, command: string): Promise<{ layers: DriftLayer[]; notify?: string }> {
  const layers = typeof ctx.options.layer === 'string' ? ctx.options.layer.split(',').map((l) => l.trim().toUpperCase()) : ['L1', 'L2', 'L3', 'L4'];
  const bad = layers.find((l) => !['L1', 'L2', 'L3', 'L4'].includes(l));
  if (bad) throw ahlError('USAGE', { message: `unknown layer "${bad}"; expected L1, L2, L3 or L4`, command });
  const notify = ctx.options.notify;
  if (notify !== undefined && (typeof notify !== 'string' || !isSecretRef(notify)))
    throw ahlError('USAGE', { message: '--notify takes a secret reference to the webhook URL (env:NAME, file:PATH or sops:PATH#KEY), never the URL itself', command });
  return { layers: layers as DriftLayer[], ...(typeof notify === 'string' ? { notify } : {}) };
}

/** The drift report of the hosts the command's TARGETs select (drift and reconcile), with its warnings on the terminal. */
export async function checkDrift(ctx: CommandContext, lab: Lab, secrets: Secrets, layers: readonly DriftLayer[], command: string): Promise<DriftReport> {
  const { out } = ctx;
  const hosts = selectTargets(lab, lab.hosts, ctx.positionals, { command });
  return gatherDrift(lab, secrets, { hosts, layers, env: ctx.env, signal: ctx.signal, redactor: secrets.redactor, reporter: out.reporter(undefined, (m) => out.style('dim', m)), warn: out.warn });
}

/** Posts a drift or reconcile payload to the --notify webhook, and says on the terminal whether it was told (never its URL). */
export async function notifyWebhook(ctx: CommandContext, secrets: Secrets, notify: string, payload: unknown): Promise<void> {
  const { out } = ctx;
  const sent = await postJson(secrets.resolve(notify, '--notify'), payload);
  out.line(sent.ok ? out.style('dim', `notified the webhook (${sent.status})`) : out.style('yellow', `! the webhook was not notified: ${secrets.redactor.redact(sent.error)}`));
}
