/** 42s, 5m, 3h, 2d: a coarse age for a person. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** 93.4 s: a duration as the progress lines show it. */
export function seconds(ms = 0): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** "3h ago", or "never" for no time at all. */
export function ago(ms: number | undefined): string {
  return ms === undefined ? 'never' : `${age(ms)} ago`;
}
