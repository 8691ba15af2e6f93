import type { ModelLimitScope, ModelLimitsListResponseDto } from '@tollgate/contracts';
import { ProblemAlert } from '../../../components/problem-alert';
import { formatUsd } from '../../../lib/format';
import { formatLimitCount } from '../../../lib/limits';
import type { Loaded } from '../../../lib/load';
import { canManage } from '../../../lib/org';
import { deleteModelLimitsAction } from './actions';
import { ModelLimitsForm } from './model-limits-form';

const usd = (v: string | null) => (v === null ? '—' : formatUsd(v));

/**
 * Limits on single models of a tenant or key: applied on top of the scope's own limits to the
 * requests that name that model. The list, a remove button per model and the form, for owners and
 * admins.
 */
export function ModelLimits({
  scope,
  id,
  role,
  models,
}: {
  scope: ModelLimitScope;
  id: string;
  role: string;
  models: Loaded<ModelLimitsListResponseDto>;
}) {
  const manage = canManage(role);
  return (
    <section className="panel" aria-labelledby="model-limits-title" data-testid="model-limits">
      <h2 id="model-limits-title">Per-model limits</h2>
      <p className="small muted">
        Apply, on top of the limits above, to the requests that ask for that model.
      </p>
      {!models.ok ? (
        <ProblemAlert problem={models.problem} testId="model-limits-problem" />
      ) : models.data.items.length === 0 ? (
        <p className="muted" data-testid="model-limits-empty">
          No model has limits of its own.
        </p>
      ) : (
        <table data-testid="model-limits-table">
          <thead>
            <tr>
              <th>Model</th>
              <th className="num">Day</th>
              <th className="num">Month</th>
              <th className="num">Total</th>
              <th className="num">RPM</th>
              <th className="num">TPM</th>
              <th className="num">Concurrent</th>
              {manage && <th aria-label="actions" />}
            </tr>
          </thead>
          <tbody>
            {models.data.items.map((m) => (
              <tr key={m.model} data-testid="model-limit-row">
                <td>
                  <code>{m.model}</code>
                </td>
                <td className="num">{usd(m.dailyBudgetUsd)}</td>
                <td className="num">{usd(m.monthlyBudgetUsd)}</td>
                <td className="num">{usd(m.totalBudgetUsd)}</td>
                <td className="num">{formatLimitCount(m.rpm)}</td>
                <td className="num">{formatLimitCount(m.tpm)}</td>
                <td className="num">{formatLimitCount(m.maxConcurrent)}</td>
                {manage && (
                  <td>
                    <form action={deleteModelLimitsAction.bind(null, scope, id, m.model)}>
                      <button type="submit" className="secondary" data-testid="model-limit-remove">
                        Remove
                      </button>
                    </form>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {manage && <ModelLimitsForm scope={scope} id={id} />}
    </section>
  );
}
