import { describe, expect, it } from 'vitest';
import { isCalendarExpression } from '../src/model/systemd.js';

describe('isCalendarExpression (OnCalendar=)', () => {
  it.each([
    'daily',
    'Weekly',
    'hourly',
    '*-*-* 03:00',
    '*-*-* 03:00:00',
    'Mon..Fri 02:30',
    'Sat,Sun *-*-* 04:15',
    '2026-12-06 12:00 UTC',
    '*-*-01 00:00',
    '*-02~03 06:00',
    '*-*-* *:0/15',
    '*:00',
    'Mon *-*-* 01:00:00 Europe/London',
    '*-*-1,15 05:00',
  ])('accepts %j', (s) => expect(isCalendarExpression(s)).toBe(true));

  it.each([
    '',
    'daily\n[Service]\nExecStart=/bin/sh -c id',
    'daily\rExecStart=x',
    'daily\u0000',
    'now',
    '03:00 && id',
    '$(id)',
    'daily daily',
    '*-*-* 03:00 Mon',
    `${'1'.repeat(300)}`,
    'Mon..Fri 02:30 \u2028',
  ])('refuses %j', (s) => expect(isCalendarExpression(s)).toBe(false));
});
