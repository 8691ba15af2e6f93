/**
 * USD amounts cross the wire as decimal strings (never JSON numbers, which are floats) with at most
 * nine fractional digits: nano-USD is the unit everywhere inside.
 */
export const USD_DECIMAL_PATTERN = /^(0|[1-9]\d{0,11})(\.\d{1,9})?$/;

export const USD_DECIMAL_MESSAGE =
  'must be a non-negative decimal string of US dollars with at most 9 fractional digits, e.g. "2.50"';
