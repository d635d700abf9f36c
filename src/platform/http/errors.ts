/**
 * One error shape for every 4xx/5xx: `{ error: { code, message_vi, message_en, details? } }`.
 * Domain code throws an AppError; the error handler turns anything else into that shape.
 */
export class AppError extends Error {
  constructor(
    public readonly statusCode: number,
    public readonly code: string,
    public readonly messageVi: string,
    public readonly messageEn: string,
    public readonly details?: unknown,
    public readonly headers?: Record<string, string>,
  ) {
    super(messageEn)
    this.name = 'AppError'
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message_vi: this.messageVi,
        message_en: this.messageEn,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    }
  }
}

export interface ErrorBody {
  error: { code: string; message_vi: string; message_en: string; details?: unknown }
}

export const badRequest = (code: string, vi: string, en: string, details?: unknown) => new AppError(400, code, vi, en, details)
export const unauthorized = () =>
  new AppError(401, 'UNAUTHENTICATED', 'Bạn cần đăng nhập để thực hiện thao tác này.', 'You must sign in to do this.')
export const forbidden = (en = 'You are not allowed to do this.', vi = 'Bạn không có quyền thực hiện thao tác này.') =>
  new AppError(403, 'FORBIDDEN', vi, en)
export const notFound = (what: string, whatVi: string) =>
  new AppError(404, 'NOT_FOUND', `Không tìm thấy ${whatVi}.`, `${what} not found.`)
export const conflict = (code: string, vi: string, en: string, details?: unknown) => new AppError(409, code, vi, en, details)
export const unavailable = (retryAfterSeconds = 5) =>
  new AppError(
    503,
    'SERVICE_UNAVAILABLE',
    'Hệ thống tạm thời không phục vụ được, vui lòng thử lại sau.',
    'The service is temporarily unavailable; please retry.',
    undefined,
    { 'retry-after': String(retryAfterSeconds) },
  )
