import type { FastifyError, FastifyInstance } from 'fastify'
import { STORAGE_FULL_CODES, STORAGE_UNAVAILABLE_CODES } from '../storage/atomic-write.ts'
import { AppError, unavailable } from './errors.ts'

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300', '08006', '08001', '08003'])

/** Maps any thrown error to the platform's error shape. Never leaks a 5xx message. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err
  const e = err as FastifyError & { code?: string; validation?: unknown[]; statusCode?: number }
  if (e?.validation) {
    return new AppError(400, 'VALIDATION_FAILED', 'Dữ liệu gửi lên không hợp lệ.', `Invalid request: ${e.message}`, e.validation)
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError(413, 'PAYLOAD_TOO_LARGE', 'Dữ liệu gửi lên quá lớn.', 'The request body or file is too large.')
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError(413, 'TOO_MANY_PARTS', 'Gửi quá nhiều tệp hoặc trường.', 'Too many files or fields in the upload.')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Kiểu nội dung không được hỗ trợ.', 'Unsupported Content-Type.')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(400, 'MALFORMED_BODY', 'Nội dung yêu cầu không đúng định dạng.', 'The request body is malformed.')
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Cần gửi dạng multipart/form-data.', 'Expected multipart/form-data.')
    case '22P02': // invalid_text_representation
    case '22003': // numeric_value_out_of_range
    case '22007': // invalid_datetime_format
    case '22008':
    case '22001': // string_data_right_truncation
    case '22023':
    case '22021': // character_not_in_repertoire (a NUL byte in a string)
    case '22P05': // untranslatable_character
      return new AppError(400, 'INVALID_VALUE', 'Giá trị không hợp lệ.', 'A value in the request is invalid.')
    case '23505':
      return new AppError(409, 'CONFLICT', 'Dữ liệu đã tồn tại.', 'This record already exists.')
    case '23503': // foreign_key_violation: the request names something that does not exist (or is still used)
      return new AppError(409, 'REFERENCE_CONFLICT', 'Dữ liệu tham chiếu không tồn tại hoặc đang được sử dụng.', 'A referenced record does not exist or is still in use.')
    case '23514': // check_violation
    case '23502': // not_null_violation
      return new AppError(400, 'INVALID_VALUE', 'Giá trị không hợp lệ.', 'A value in the request is invalid.')
    case '40001':
    case '40P01':
      return new AppError(503, 'RETRY', 'Xung đột tạm thời, vui lòng thử lại.', 'Temporary conflict; please retry.', undefined, { 'retry-after': '1' })
  }
  if (e?.code && CONNECTION_ERRORS.has(e.code)) return unavailable()
  // The upload folder (or the database's disk) is full or cannot be written: the request can be
  // retried later unchanged (with its Idempotency-Key); nothing of it was committed.
  if (e?.code && (STORAGE_FULL_CODES.has(e.code) || e.code === '53100')) {
    return new AppError(507, 'STORAGE_FULL', 'Bộ nhớ lưu trữ tệp đã đầy, vui lòng thử lại sau.', 'File storage is full; please retry later.', undefined, { 'retry-after': '300' })
  }
  const syscall = (e as { syscall?: unknown })?.syscall
  // Node's recursive mkdir on a read-only file system reports ENOENT (measured on a tmpfs
  // remounted ro): a folder of the upload store that cannot be made is the storage, not the request.
  if (e?.code && typeof syscall === 'string' && (STORAGE_UNAVAILABLE_CODES.has(e.code) || (e.code === 'ENOENT' && syscall === 'mkdir'))) {
    return new AppError(503, 'STORAGE_UNAVAILABLE', 'Không ghi được tệp lên bộ nhớ lưu trữ, vui lòng thử lại sau.', 'File storage cannot be written; please retry later.', undefined, { 'retry-after': '60' })
  }
  if (/Connection terminated|timeout exceeded when trying to connect|PGlite is closed|Client has encountered a connection error/i.test(e?.message ?? '')) return unavailable()
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500
  if (status === 429) {
    return new AppError(429, 'RATE_LIMITED', 'Bạn gửi quá nhiều yêu cầu, vui lòng thử lại sau.', 'Too many requests; slow down and retry later.')
  }
  if (status >= 400 && status < 500) {
    return new AppError(status, e.code ?? 'BAD_REQUEST', 'Yêu cầu không hợp lệ.', e.message || 'Bad request.')
  }
  return new AppError(500, 'INTERNAL', 'Lỗi hệ thống. Chúng tôi đã ghi nhận.', 'Internal error. It has been logged.')
}

/** Installs the one error handler and the 404 handler. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const appErr = toAppError(err)
    if (appErr.statusCode >= 500) req.log.error({ err, url: req.url, method: req.method }, 'request failed')
    else req.log.info({ code: appErr.code, url: req.url }, 'request refused')
    if (appErr.headers) reply.headers(appErr.headers)
    if (appErr.statusCode === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '60')
    return reply.status(appErr.statusCode).type('application/json; charset=utf-8').send(appErr.toBody())
  })
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({
      error: { code: 'ROUTE_NOT_FOUND', message_vi: 'Không có đường dẫn này.', message_en: `No route ${req.method} ${req.url.split('?')[0]}.` },
    })
  })
}
