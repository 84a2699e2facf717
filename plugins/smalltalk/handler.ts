/** The `smalltalk` skill: greetings, thanks and goodbyes, answered in the person's language. */
import { defineSkill } from '../sdk.js';
import type { SkillRequest } from '../sdk.js';

export default defineSkill({
  'smalltalk.greet': (request) => {
    const name = request.user.displayName?.trim();
    if (isChinese(request))
      return { text: `你好${name ? `，${name}` : ''}！Hi, I'm Parley. 有什么可以帮你？` };
    return { text: `Hello${name ? `, ${name}` : ''}! How can I help? Say "help" to see what I can do.` };
  },
  'smalltalk.thanks': (request) => ({
    text: isChinese(request) ? '不客气！还有什么需要帮忙的吗？' : "You're welcome! Anything else?",
  }),
  'smalltalk.bye': (request) => ({
    text: isChinese(request) ? '再见！随时找我。' : 'Goodbye! Talk to you soon.',
  }),
});

function isChinese(request: SkillRequest): boolean {
  return request.locale?.toLowerCase().startsWith('zh') === true || /\p{Script=Han}/u.test(request.text);
}
