/** One segment holds up to 70 characters; longer messages are split into parts of 67. */
export const SINGLE_SEGMENT_LENGTH = 70;
export const MULTI_SEGMENT_LENGTH = 67;

/** Length as the platform bills it: code points, every character counting 1. */
export function contentLength(content: string): number {
  let count = 0;
  for (const _ of content) count++;
  return count;
}

/** How many billed segments one copy of `content` takes. */
export function countSegments(content: string): number {
  const length = contentLength(content);
  if (length === 0) return 0;
  if (length <= SINGLE_SEGMENT_LENGTH) return 1;
  return Math.ceil(length / MULTI_SEGMENT_LENGTH);
}

const SIGNATURE = /^【[^【】]+】|【[^【】]+】$/;

/** True when content starts or ends with a carrier signature such as `【签名】`. */
export function hasSignature(content: string): boolean {
  return SIGNATURE.test(content.trim());
}

/** Prepends `【signature】` (given with or without brackets) unless content already carries one. */
export function applySignature(content: string, signature: string | undefined): string {
  if (!signature || hasSignature(content)) return content;
  const mark = /^【[^【】]+】$/.test(signature) ? signature : `【${signature}】`;
  return mark + content;
}
