import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alert settings and delivery outcome: the webhook URL becomes optional (alerts are then records
 * only), each organisation chooses its thresholds, and an alert keeps when it was delivered and why
 * the last attempt failed.
 */
export class AddAlertSettingsAndDelivery1796140311397 implements MigrationInterface {
  name = 'AddAlertSettingsAndDelivery1796140311397';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE alert_webhooks ALTER COLUMN url DROP NOT NULL`);
    // rows from before get the defaults; new rows always say which thresholds they want
    await q.query(
      `ALTER TABLE alert_webhooks ADD COLUMN thresholds_percent integer[] NOT NULL DEFAULT '{50,80,100}'`,
    );
    await q.query(`ALTER TABLE alert_webhooks ALTER COLUMN thresholds_percent DROP DEFAULT`);
    await q.query(`ALTER TABLE budget_alerts ADD COLUMN delivered_at timestamptz`);
    await q.query(`ALTER TABLE budget_alerts ADD COLUMN last_error text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE budget_alerts DROP COLUMN last_error`);
    await q.query(`ALTER TABLE budget_alerts DROP COLUMN delivered_at`);
    await q.query(`ALTER TABLE alert_webhooks DROP COLUMN thresholds_percent`);
    await q.query(`DELETE FROM alert_webhooks WHERE url IS NULL`);
    await q.query(`ALTER TABLE alert_webhooks ALTER COLUMN url SET NOT NULL`);
  }
}
