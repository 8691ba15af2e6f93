import { Controller, Get, Headers, Param, Query, Res, UseGuards } from '@nestjs/common';
import {
  MonthlyReportQueryDto,
  type MonthlyReportResponseDto,
  SPEND_READER_ROLES,
} from '@tollgate/contracts';
import { OrgRoleGuard, RequireOrgRole } from '../common/access.guards';
import { monthlyReportCsv } from './monthly-report.csv';
import { ReportsService } from './reports.service';

/** The reply methods the CSV branch needs (Express and Fastify both have them). */
interface CsvReply {
  header(name: string, value: string): unknown;
}

function wantsCsv(format: 'json' | 'csv' | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  return (accept ?? '').toLowerCase().includes('text/csv');
}

@Controller('orgs/:orgId/reports')
@UseGuards(OrgRoleGuard)
@RequireOrgRole(SPEND_READER_ROLES)
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  /** JSON by default; CSV with `format=csv` or `Accept: text/csv` (`format` wins). */
  @Get('monthly')
  async monthly(
    @Param('orgId') orgId: string,
    @Query() query: MonthlyReportQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: CsvReply,
  ): Promise<MonthlyReportResponseDto | string> {
    const report = await this.reports.monthly(orgId, query.month);
    if (!wantsCsv(query.format, accept)) return report;
    reply.header('content-type', 'text/csv; charset=utf-8');
    reply.header(
      'content-disposition',
      `attachment; filename="tollgate-spend-${report.month}.csv"`,
    );
    return monthlyReportCsv(report);
  }
}
