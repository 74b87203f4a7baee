import { AreaChart, BarChart } from '@mantine/charts';
import { Paper, SimpleGrid, Title } from '@mantine/core';
import { useT } from '../i18n';
import { formatMoney, formatTokens, formatTokensShort } from '../lib/format';
import type { DayUsage } from '../lib/usage';

/** Spend and tokens per day, side by side at 1280 px and stacked on a phone. */
export function UsageCharts({ days }: { days: DayUsage[] }) {
  const t = useT();
  const data = days.map((d) => ({ ...d, label: d.day.slice(5) }));
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <Paper withBorder p="sm" data-testid="chart-spend">
        <Title order={2} size="h5" mb="xs">
          {t('dash.spendPerDay')}
        </Title>
        <BarChart
          h={240}
          data={data}
          dataKey="label"
          series={[{ name: 'fee', label: t('dash.spend'), color: 'indigo.6' }]}
          valueFormatter={(v) => formatMoney(v)}
          yAxisProps={{ width: 80, tickFormatter: (v: number) => formatMoney(v, { minDecimals: 0 }) }}
          withTooltip
        />
      </Paper>
      <Paper withBorder p="sm" data-testid="chart-tokens">
        <Title order={2} size="h5" mb="xs">
          {t('dash.tokensPerDay')}
        </Title>
        <AreaChart
          h={240}
          data={data}
          dataKey="label"
          type="stacked"
          series={[
            { name: 'tokens_in', label: t('record.tokensIn'), color: 'teal.6' },
            { name: 'tokens_out', label: t('record.tokensOut'), color: 'orange.6' },
          ]}
          valueFormatter={(v) => formatTokens(v)}
          yAxisProps={{ width: 60, tickFormatter: (v: number) => formatTokensShort(v) }}
          withLegend
        />
      </Paper>
    </SimpleGrid>
  );
}
