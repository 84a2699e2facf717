/** Reading a clock in a time zone. */

/** The wall-clock time (`14:05`, 24-hour) and weekday at `instant` in `zone`. */
export function wallClock(
  instant: Date,
  zone: string,
  language: 'en' | 'zh',
): { time: string; weekday: string } {
  const parts = new Intl.DateTimeFormat(language === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    weekday: 'long',
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((p) => p.type === type)?.value ?? '';
  return { time: `${part('hour')}:${part('minute')}`, weekday: part('weekday') };
}
