import type { ProcedureVersion } from './catalogue-port.ts'

/** The step a dossier is at while waiting for reception. */
export const RECEPTION_STEP = 'reception'
/** The step after resolution: returning the result at the desk. */
export const RESULT_STEP = 'result'

/** Processing steps: the procedure's steps, without a leading reception step or a trailing result step. */
export function processingSteps(p: ProcedureVersion): string[] {
  const keys = (p.steps ?? []).map((s) => s.key).filter((k) => k !== RECEPTION_STEP && k !== RESULT_STEP)
  return keys.length ? keys : ['processing']
}

export function nextProcessingStep(p: ProcedureVersion, current: string): string | undefined {
  const keys = processingSteps(p)
  const i = keys.indexOf(current)
  return i >= 0 ? keys[i + 1] : keys[0]
}

/** The share of the total time used up by the end of `step` (1 when the step is unknown). */
export function cumulativeShare(p: ProcedureVersion, step: string): number {
  const steps = p.steps ?? []
  const i = steps.findIndex((s) => s.key === step)
  if (i < 0) return 1
  const total = steps.reduce((a, s) => a + (s.share > 0 ? s.share : 0), 0)
  if (!(total > 0)) return 1
  return steps.slice(0, i + 1).reduce((a, s) => a + (s.share > 0 ? s.share : 0), 0) / total
}
