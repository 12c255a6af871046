/*
 * Values that land in systemd unit files. A unit is line-based: a newline in a value adds a
 * directive, so lab text is checked against the grammar of the field it fills (systemd.time(7) for
 * `OnCalendar=`) rather than escaped.
 */

const SHORTHANDS = new Set(['minutely', 'hourly', 'daily', 'weekly', 'monthly', 'yearly', 'annually', 'quarterly', 'semiannually']);
const DAY = '(mon|tue|wed|thu|fri|sat|sun)[a-z]{0,6}';
const WEEKDAYS = new RegExp(`^${DAY}(\\.\\.${DAY})?(,${DAY}(\\.\\.${DAY})?)*$`, 'i');
/** One calendar component: `*`, or a list of values and ranges, each with an optional `/step`. */
const part = (value: string) => `(\\*|${value}(\\.\\.${value})?)(\\/\\d{1,4})?`;
const list = (value: string) => `${part(value)}(,${part(value)})*`;
const NUM = '\\d{1,4}';
const DAY_OF_MONTH = `(\\*|${NUM}(\\.\\.${NUM})?)((~|\\/)\\d{1,2})?`;
const DATE = new RegExp(`^((${list(NUM)})-)?${list(NUM)}-${DAY_OF_MONTH}(,${DAY_OF_MONTH})*$`);
const TIME = new RegExp(`^${list(NUM)}:${list(NUM)}(:${list('\\d{1,2}(\\.\\d{1,6})?')})?$`);
const ZONE = /^(UTC|[A-Z][A-Za-z_+-]*(\/[A-Za-z0-9_+-]+){1,2})$/;

/**
 * Whether `s` is a systemd calendar expression (`OnCalendar=`): a shorthand such as `daily`, or
 * `[WEEKDAYS] [[YEAR-]MONTH-DAY] [HH:MM[:SS]] [TIMEZONE]` with `*`, lists, `..` ranges and `/` steps.
 * On one line, printable ASCII only. Stricter than systemd in corners; never looser.
 */
export function isCalendarExpression(s: string): boolean {
  if (s.length === 0 || s.length > 200 || !/^[\x20-\x7e]+$/.test(s)) return false;
  const words = s.trim().split(/ +/);
  if (words.length === 1 && SHORTHANDS.has(words[0]!.toLowerCase())) return true;
  const order = [WEEKDAYS, DATE, TIME, ZONE];
  let at = 0;
  for (const w of words) {
    while (at < order.length && !order[at]!.test(w)) at++;
    if (at === order.length) return false;
    at++;
  }
  return true;
}
