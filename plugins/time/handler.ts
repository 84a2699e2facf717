/** The `time` skill: the current time here (the configured zone) or in a named city. */
import { defineSkill } from '../sdk.js';
import type { SkillRequest } from '../sdk.js';
import { wallClock } from './clock.js';
import { isTimeZone, resolveCity, systemTimeZone } from './zones.js';

export default defineSkill({
  'time.current': (request, { now, config }) => {
    const configured = typeof config['timezone'] === 'string' ? config['timezone'].trim() : '';
    const zone = configured !== '' && isTimeZone(configured) ? configured : systemTimeZone();
    const language = languageOf(request);
    const { time, weekday } = wallClock(now(), zone, language);
    return {
      text:
        language === 'zh'
          ? `现在是 ${time}（${weekday}），${zone} 时间。`
          : `It's ${time} (${weekday}), ${zone} time.`,
    };
  },

  'time.in_city': (request, { now }) => {
    const language = languageOf(request);
    const asked = request.entities['city']?.trim() ?? '';
    if (asked === '') {
      return {
        text:
          language === 'zh'
            ? '哪个城市？例如：“东京现在几点”。'
            : 'Which city? Try "what time is it in Tokyo".',
      };
    }
    const city = resolveCity(asked);
    if (!city) {
      return {
        text:
          language === 'zh'
            ? `我不知道“${asked}”的时区。试试一个大城市，比如东京、伦敦或纽约。`
            : `I don't know the time zone of "${asked}". Try a major city such as Tokyo, London or New York, or a zone like Europe/Paris.`,
      };
    }
    const { time, weekday } = wallClock(now(), city.zone, language);
    return {
      text:
        language === 'zh'
          ? `${city.name}现在是 ${time}（${weekday}）。`
          : `It's ${time} (${weekday}) in ${city.name}.`,
    };
  },
});

function languageOf(request: SkillRequest): 'en' | 'zh' {
  return request.locale?.toLowerCase().startsWith('zh') === true || /\p{Script=Han}/u.test(request.text)
    ? 'zh'
    : 'en';
}
