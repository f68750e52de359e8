import { describe, it, expect } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import {
  DEFAULT_RETRY_SCHEDULE,
  nextAttemptDelay,
  parseRetryAfter,
  parseRetrySchedule,
} from '../../../src/webhooks/retry-schedule.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;

describe('parseRetrySchedule', () => {
  it('parses the default schedule into milliseconds', () => {
    expect(parseRetrySchedule(DEFAULT_RETRY_SCHEDULE)).toEqual([0, 5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H]);
  });

  it('accepts every unit, bare seconds, decimals and spaces', () => {
    expect(parseRetrySchedule(' 250ms, 30 ,1.5s,2m, 1h ,1d,0.5h')).toEqual([250, 30 * S, 1_500, 2 * M, H, 24 * H, 30 * M]);
  });

  it.each([
    ['0,5s,5x', '#3 "5x"'],
    ['0,,5s', '#2 ""'],
    ['0,5s,', '#3 ""'],
    ['-5s', '#1 "-5s"'],
    ['5 s', '#1 "5 s"'],
    ['5S', '#1 "5S"'],
    ['1e3', '#1 "1e3"'],
    ['.5s', '#1 ".5s"'],
    ['5s,abc', '#2 "abc"'],
  ])('refuses %j with a ConfigError naming entry %s', (spec, entry) => {
    expect(() => parseRetrySchedule(spec)).toThrow(ConfigError);
    expect(() => parseRetrySchedule(spec)).toThrow(`retry schedule entry ${entry} is not a delay`);
  });

  it('refuses an empty schedule', () => {
    expect(() => parseRetrySchedule('  ')).toThrow('retry schedule is empty');
  });

  it('refuses a delay too large to represent exactly', () => {
    expect(() => parseRetrySchedule('99999999999999999999d')).toThrow(ConfigError);
  });
});

describe('nextAttemptDelay', () => {
  const schedule = parseRetrySchedule(DEFAULT_RETRY_SCHEDULE);
  const middle = () => 0.5;

  it('uses the entry after the attempts already made', () => {
    expect(nextAttemptDelay({ attempt: 1, schedule, random: middle })).toBe(5 * S);
    expect(nextAttemptDelay({ attempt: 2, schedule, random: middle })).toBe(5 * M);
    expect(nextAttemptDelay({ attempt: 7, schedule, random: middle })).toBe(10 * H);
  });

  it('returns null once the schedule is exhausted', () => {
    expect(nextAttemptDelay({ attempt: 8, schedule })).toBeNull();
    expect(nextAttemptDelay({ attempt: 50, schedule })).toBeNull();
    expect(nextAttemptDelay({ attempt: 1, schedule: [0] })).toBeNull();
  });

  it('spreads the delay by ±jitter', () => {
    expect(nextAttemptDelay({ attempt: 1, schedule, random: () => 0 })).toBe(4 * S);
    expect(nextAttemptDelay({ attempt: 1, schedule, random: () => 0.999_999_9 })).toBe(6 * S);
    expect(nextAttemptDelay({ attempt: 1, schedule, jitter: 0.5, random: () => 0 })).toBe(2_500);
    expect(nextAttemptDelay({ attempt: 1, schedule, jitter: 0, random: () => 0 })).toBe(5 * S);
  });

  it('stays within ±20 % by default', () => {
    for (let i = 0; i < 1_000; i += 1) {
      const delay = nextAttemptDelay({ attempt: 3, schedule }) ?? NaN;
      expect(delay).toBeGreaterThanOrEqual(24 * M);
      expect(delay).toBeLessThanOrEqual(36 * M);
    }
  });

  it('waits for Retry-After when it is longer than the schedule', () => {
    expect(nextAttemptDelay({ attempt: 1, schedule, random: middle, retryAfterMs: 120 * S })).toBe(120 * S);
  });

  it('never shortens the schedule for Retry-After', () => {
    expect(nextAttemptDelay({ attempt: 2, schedule, random: middle, retryAfterMs: 10 * S })).toBe(5 * M);
    expect(nextAttemptDelay({ attempt: 2, schedule, random: middle, retryAfterMs: 0 })).toBe(5 * M);
  });

  it('caps Retry-After at one hour by default, or at retryAfterCapMs', () => {
    expect(nextAttemptDelay({ attempt: 1, schedule, random: middle, retryAfterMs: 3 * 24 * H })).toBe(H);
    expect(
      nextAttemptDelay({ attempt: 1, schedule, random: middle, retryAfterMs: 3 * 24 * H, retryAfterCapMs: 10 * M }),
    ).toBe(10 * M);
    expect(nextAttemptDelay({ attempt: 5, schedule, random: middle, retryAfterMs: 3 * 24 * H })).toBe(5 * H);
  });

  it('gives up when exhausted even if Retry-After is set', () => {
    expect(nextAttemptDelay({ attempt: 8, schedule, retryAfterMs: 5 * S })).toBeNull();
  });

  it.each([0, -1, 1.5, NaN])('throws a RangeError for attempt %s', (attempt) => {
    expect(() => nextAttemptDelay({ attempt, schedule })).toThrow(RangeError);
  });

  it.each([-0.1, 1.1, NaN])('throws a RangeError for jitter %s', (jitter) => {
    expect(() => nextAttemptDelay({ attempt: 1, schedule, jitter })).toThrow(RangeError);
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2025-03-01T12:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120 * S);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an IMF-fixdate', () => {
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:02:30 GMT', now)).toBe(150 * S);
  });

  it('reads the obsolete RFC 850 and asctime forms as GMT', () => {
    expect(parseRetryAfter('Saturday, 01-Mar-25 12:01:00 GMT', now)).toBe(M);
    expect(parseRetryAfter('Sat Mar  1 12:00:10 2025', now)).toBe(10 * S);
    expect(parseRetryAfter('Sat Mar 01 12:00:10 2025', now)).toBe(10 * S);
  });

  it('puts a two-digit year more than 50 years ahead in the previous century', () => {
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(0);
  });

  it('gives 0 for a date in the past', () => {
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', now)).toBe(0);
  });

  it.each([
    null,
    '',
    '   ',
    '-5',
    '1.5',
    '5s',
    'soon',
    'Sat, 31 Feb 2025 12:00:00 GMT',
    'Sat, 01 Mar 2025 25:00:00 GMT',
    '2025-03-01T12:05:00Z',
    'Sat, 01 Mar 2025 12:05:00 PST',
  ])('returns undefined for %j', (header) => {
    expect(parseRetryAfter(header, now)).toBeUndefined();
  });
});
