/** Robust statistics for monthly series (pure functions). */

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Median absolute deviation, scaled (×1.4826) to estimate a normal σ. */
export function robustSigma(xs: number[]): number {
  if (xs.length === 0) return NaN
  const m = median(xs)
  return 1.4826 * median(xs.map((x) => Math.abs(x - m)))
}

/** 'YYYY-MM' plus n months. */
export function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const t = y * 12 + (m - 1) + n
  return `${Math.floor(t / 12)}-${String((t % 12) + 1).padStart(2, '0')}`
}

export function monthRange(last: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => addMonths(last, i - count + 1))
}

/**
 * Baseline of point i by a seasonal decomposition that uses only earlier points: level = median
 * of the 12 months before i; seasonal = median, over earlier years, of the same calendar
 * month's deviation from its own level. Null with fewer than 6 earlier months.
 */
export function baselineAt(values: number[], i: number): { level: number; seasonal: number; baseline: number } | null {
  if (i < 6) return null
  const level = median(values.slice(Math.max(0, i - 12), i))
  const devs: number[] = []
  for (let j = i - 12; j >= 6; j -= 12) devs.push(values[j]! - median(values.slice(Math.max(0, j - 12), j)))
  const seasonal = devs.length ? median(devs) : 0
  return { level, seasonal, baseline: Math.max(0, level + seasonal) }
}

export interface AnomalyScore { value: number; baseline: number; level: number; seasonal: number; residual: number; score: number; scale: number }

/**
 * Robust anomaly score of the last point: its residual from the seasonal baseline, centred on
 * the median earlier residual and divided by the larger of the residuals' MAD-σ and the
 * Poisson σ of the baseline (counts are noisy when small).
 */
export function scoreLast(values: number[]): AnomalyScore | null {
  const last = values.length - 1
  const b = baselineAt(values, last)
  if (!b) return null
  const residuals: number[] = []
  for (let i = 6; i < last; i++) {
    const bi = baselineAt(values, i)
    if (bi) residuals.push(values[i]! - bi.baseline)
  }
  const centre = residuals.length ? median(residuals) : 0
  const scale = Math.max(residuals.length >= 3 ? robustSigma(residuals) : 0, Math.sqrt(Math.max(1, b.baseline)))
  const residual = values[last]! - b.baseline
  return { value: values[last]!, ...b, residual, score: (residual - centre) / scale, scale }
}

export interface Forecast { month: string; value: number; lower: number; upper: number; method: string }

/**
 * Next month's count: linear trend over the last 12 seasonally adjusted months plus the
 * seasonal deviation of the coming calendar month; 95% interval from the MAD-σ of the fit's
 * residuals (at least the Poisson σ).
 */
export function forecastNext(months: string[], values: number[]): Forecast | null {
  const n = values.length
  if (n < 3) return null
  const next = addMonths(months[n - 1]!, 1)
  const seasonalOf = (i: number) => {
    const devs: number[] = []
    for (let j = i - 12; j >= 6; j -= 12) devs.push(values[j]! - median(values.slice(Math.max(0, j - 12), j)))
    return devs.length >= 1 ? median(devs) : 0
  }
  const start = Math.max(0, n - 12)
  const xs: number[] = []
  const ys: number[] = []
  for (let i = start; i < n; i++) { xs.push(i); ys.push(values[i]! - seasonalOf(i)) }
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0)
  const slope = sxx > 0 ? xs.reduce((a, x, k) => a + (x - mx) * (ys[k]! - my), 0) / sxx : 0
  const at = (x: number) => my + slope * (x - mx)
  const resid = xs.map((x, k) => ys[k]! - at(x))
  const point = Math.max(0, at(n) + seasonalOf(n))
  const sigma = Math.max(robustSigma(resid) || 0, Math.sqrt(Math.max(1, point)))
  return { month: next, value: Math.round(point * 10) / 10, lower: Math.max(0, Math.round((point - 1.96 * sigma) * 10) / 10), upper: Math.round((point + 1.96 * sigma) * 10) / 10, method: 'linear trend of 12 seasonally adjusted months + seasonal index; 95% interval from MAD' }
}

export interface Trend { value: number; previous: number | null; change_pct: number | null; year_ago: number | null; yoy_pct: number | null }

export function trendOf(values: number[]): Trend {
  const n = values.length
  const v = values[n - 1] ?? 0
  const prev = n >= 2 ? values[n - 2]! : null
  const ya = n >= 13 ? values[n - 13]! : null
  const pct = (a: number, b: number | null) => (b === null || b === 0 ? null : Math.round(((a - b) / b) * 1000) / 10)
  return { value: v, previous: prev, change_pct: pct(v, prev), year_ago: ya, yoy_pct: pct(v, ya) }
}
