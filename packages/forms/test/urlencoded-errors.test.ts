import { describe, expect, it } from 'vitest';
import { FORM_ERROR_STATUS, FormError, FormErrorCode } from '../src/index';

describe('FormError', () => {
  it('takes its status from the one table, for every code', () => {
    for (const code of Object.values(FormErrorCode)) {
      const err = new FormError(code, 7, 'reason');
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe('FormError');
      expect(err.code).toBe(code);
      expect(err.offset).toBe(7);
      expect(err.status).toBe(FORM_ERROR_STATUS[code]);
      expect([400, 413, 415]).toContain(err.status);
    }
    expect(Object.keys(FORM_ERROR_STATUS).sort()).toEqual(Object.keys(FormErrorCode).sort());
  });
});
