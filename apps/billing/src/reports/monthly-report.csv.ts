import type { MonthlyReportResponseDto } from '@tollgate/contracts';

export const MONTHLY_REPORT_CSV_COLUMNS = [
  'month',
  'tenant_id',
  'tenant_name',
  'key_id',
  'key_name',
  'model',
  'requests',
  'unpriced_requests',
  'input_tokens',
  'output_tokens',
  'cost_usd',
] as const;

/**
 * One RFC 4180 cell. Text a spreadsheet would run as a formula (starting with = + - @, a tab or a
 * CR) is prefixed with `'`; only text cells are guarded, so negative numbers cannot be mangled.
 */
export function csvCell(value: string | number | null, text = true): string {
  if (value === null) return '';
  let s = String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The report as CSV: a header row, one row per line, CRLF line ends, no total row. */
export function monthlyReportCsv(report: MonthlyReportResponseDto): string {
  const rows = [MONTHLY_REPORT_CSV_COLUMNS.join(',')];
  for (const l of report.lines) {
    rows.push(
      [
        csvCell(report.month, false),
        csvCell(l.tenantId),
        csvCell(l.tenantName),
        csvCell(l.keyId),
        csvCell(l.keyName),
        csvCell(l.model),
        csvCell(l.requests, false),
        csvCell(l.unpricedRequests, false),
        csvCell(l.inputTokens, false),
        csvCell(l.outputTokens, false),
        csvCell(l.costUsd, false),
      ].join(','),
    );
  }
  return `${rows.join('\r\n')}\r\n`;
}
