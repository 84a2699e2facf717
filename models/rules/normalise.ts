/**
 * Text normalisation shared by every rule kind, so that a manifest's patterns, keywords and examples and a
 * person's words are compared in the same form.
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
// A token is a run of letters/digits outside CJK scripts, or a single CJK character: CJK has no spaces,
// so characters are the only segmentation that needs no dictionary.
const TOKEN =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[^\s\p{P}\p{S}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+(?:'[^\s\p{P}\p{S}]+)*/gu;

/**
 * NFKC (full-width forms to ASCII, compatibility characters folded), typographic quotes to ASCII, trimmed,
 * runs of white space collapsed to one space. Case is kept: patterns run on this form so that captured
 * entities keep the person's spelling.
 */
export function normaliseText(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[\u2018\u2019\u201B\u2032]/g, "'")
    .replace(/[\u201C\u201D\u201F\u2033]/g, '"')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** {@link normaliseText}, lower-cased: the form keywords and examples are compared in. */
export function foldText(text: string): string {
  return normaliseText(text).toLowerCase();
}

/** The tokens of folded text: Latin-script words (punctuation dropped) and single CJK characters. */
export function tokenise(folded: string): string[] {
  return folded.match(TOKEN) ?? [];
}

/** Whether the text contains Chinese, Japanese or Korean characters. */
export function hasCjk(text: string): boolean {
  return CJK.test(text);
}
