import type { AudienceReport } from '../../audience/index.js';

/** A table as `renderTable` draws it: a caption, column headers, and a header cell per row. */
export interface TableView {
  readonly caption: string;
  readonly rowHeader: string;
  readonly columns: string[];
  readonly rows: Array<{ header: string; cells: string[] }>;
}

/** One chart over the broadcast's minutes (x in seconds) and the table of the same numbers. */
export interface ChartView {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly kind: 'lines' | 'bars';
  readonly x: number[];
  /** A provider that reported nothing in a minute is `null` there: a gap, not a zero. */
  readonly series: Array<{ label: string; values: Array<number | null> }>;
  readonly table: TableView;
}

export interface AudienceReportViewModel {
  readonly totals: Array<{ term: string; value: string }>;
  readonly charts: ChartView[];
  readonly tables: TableView[];
}

/** A source or provider as a reader knows it (`twitch` is Twitch); another site's origin as it is. */
export function sourceName(key: string): string;

/** What the audience page shows of a report: totals, charts with their tables, breakdown tables. Pure. */
export function audienceReportView(report: AudienceReport): AudienceReportViewModel;
