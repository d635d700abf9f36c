import type { AnalysisResult } from './analysis.ts'
import type { IocConfig } from './config.ts'

/**
 * Optional narrative from a large language model behind an OpenAI-compatible chat-completions
 * endpoint. Off unless IOC_LLM_URL is set; the analysis is complete without it, and a failure
 * only leaves the narrative out.
 */
export async function narrate(cfg: IocConfig, a: AnalysisResult): Promise<{ text: string | null; error: string | null }> {
  if (!cfg.llmUrl) return { text: null, error: null }
  const facts = {
    period: a.period,
    province: { reports: a.province.reports.trend, dossiers: a.province.dossiers.trend, forecast_reports: a.province.reports.forecast },
    recommendations: a.recommendations.slice(0, 8).map((r) => ({ rank: r.rank, title: r.title_vi, action: r.action_vi, effect: r.expected_effect_vi })),
  }
  try {
    const res = await fetch(cfg.llmUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cfg.llmApiKey ? { authorization: `Bearer ${cfg.llmApiKey}` } : {}) },
      body: JSON.stringify({
        model: cfg.llmModel,
        temperature: 0.2,
        messages: [
          { role: 'system', content: 'Bạn là chuyên viên phân tích của Trung tâm điều hành thông minh tỉnh Điện Biên. Viết tóm tắt ngắn (tối đa 200 từ) bằng tiếng Việt cho lãnh đạo, chỉ dùng số liệu được cung cấp, không bịa thêm.' },
          { role: 'user', content: JSON.stringify(facts) },
        ],
      }),
      signal: AbortSignal.timeout(cfg.llmTimeoutMs),
    })
    if (!res.ok) return { text: null, error: `LLM endpoint answered ${res.status}` }
    const body = (await res.json()) as { choices?: { message?: { content?: string } }[] }
    const text = body.choices?.[0]?.message?.content?.trim()
    return text ? { text: text.slice(0, 8000), error: null } : { text: null, error: 'LLM answer had no message content' }
  } catch (err) {
    return { text: null, error: `LLM call failed: ${(err as Error).message}` }
  }
}
