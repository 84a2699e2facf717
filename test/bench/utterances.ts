/**
 * About 200 distinct, realistic utterances for the built-in skills (time, notes, greetings, thanks,
 * goodbyes, help) in English and Chinese, for benchmarks that must not hit one text over and over.
 * Deterministic: built from fixed templates and slot values, in a fixed order.
 */

const CITIES = [
  'Tokyo',
  'London',
  'New York',
  'Paris',
  'Berlin',
  'Sydney',
  'Singapore',
  'Dubai',
  'Toronto',
  'Mumbai',
  'São Paulo',
  'Seoul',
  'Los Angeles',
  'Cairo',
  'Mexico City',
  'Istanbul',
];
const CITIES_ZH = ['东京', '伦敦', '纽约', '巴黎', '柏林', '悉尼', '新加坡', '上海'];
const TIME_IN_CITY = [
  (city: string) => `what time is it in ${city}`,
  (city: string) => `what's the time in ${city} right now`,
  (city: string) => `current time in ${city}?`,
  (city: string) => `tell me the local time in ${city} please`,
];
const NOTES = [
  'buy milk',
  'call mom on sunday',
  'pick up the dry cleaning',
  'book a dentist appointment',
  'renew my passport before june',
  'the wifi password is on the fridge',
  'pay the electricity bill',
  'water the plants',
  'send the quarterly report to anna',
  'buy a birthday present for sam',
  'check the tyre pressure',
  'email the landlord about the heating',
  'pack the charger for the trip',
  'cancel the gym membership',
  'order more coffee beans',
  'return the library books by friday',
];
const NOTES_ZH = ['买牛奶', '明天开会', '给妈妈打电话', '交电费', '周五还书', '预约牙医'];
const ADD_NOTE = [
  (note: string) => `note: ${note}`,
  (note: string) => `add a note ${note}`,
  (note: string) => `remember to ${note}`,
  (note: string) => `take a note: ${note}`,
];
const SINGLES = [
  // time.current
  'what time is it',
  "what's the time",
  'what is the time now',
  'tell me the time',
  'current time please',
  'do you know what time it is',
  'could you tell me the time',
  'time?',
  '现在几点',
  '现在几点了',
  '几点了',
  '现在是什么时间',
  // notes.list
  'show my notes',
  'list notes',
  'my notes',
  'what are my notes',
  'show me all my notes',
  'read my notes back to me',
  'what did i note yesterday',
  '我的笔记',
  '查看笔记',
  '看看我的备忘录',
  // notes.delete
  'delete note 2',
  'remove note buy milk',
  'forget note 1',
  'delete the note about the dentist',
  'remove note number 4',
  'cross off note 3',
  '删除笔记 2',
  '删掉第 3 条笔记',
  // smalltalk.greet
  'hello',
  'hi',
  'hey',
  'good morning',
  'good evening',
  'hello there',
  'hi parley',
  'hey there, how are you',
  'good afternoon everyone',
  'howdy',
  '你好',
  '您好',
  '早上好',
  '晚上好',
  // smalltalk.thanks
  'thanks',
  'thank you',
  'thanks a lot',
  'thank you so much',
  'cheers',
  'many thanks for your help',
  'thx',
  '谢谢',
  '多谢',
  '非常感谢',
  // smalltalk.bye
  'bye',
  'goodbye',
  'see you',
  'see you later',
  'good night',
  'talk to you tomorrow',
  'catch you later',
  '再见',
  '拜拜',
  '晚安',
  // help.show
  'help',
  'what can you do',
  'how do you work',
  'show me what you can do',
  'what are your commands',
  'i need some help',
  'what else can you do',
  '帮助',
  '你能做什么',
  '你会什么',
  // out of scope
  'what is the weather like tomorrow',
  'play some jazz music',
  'how tall is mount everest',
  'order a pizza with extra cheese',
  'set an alarm for seven',
  'translate good morning into french',
];

/** The utterances, in a fixed order that mixes the intents. */
export const UTTERANCES: readonly string[] = interleave([
  CITIES.flatMap((city, i) => [0, 1, 2].map((k) => TIME_IN_CITY[(i + k) % 4]!(city))),
  CITIES_ZH.flatMap((city) => [`${city}现在几点`, `${city}几点了`]),
  NOTES.flatMap((note, i) => [ADD_NOTE[i % 4]!(note), ADD_NOTE[(i + 2) % 4]!(note)]),
  NOTES_ZH.flatMap((note) => [`记一下 ${note}`, `帮我记住 ${note}`]),
  SINGLES,
]);

/** Round-robin over the lists, so consecutive texts belong to different intents. */
function interleave(lists: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  const longest = Math.max(...lists.map((list) => list.length));
  for (let i = 0; i < longest; i++) for (const list of lists) if (i < list.length) out.push(list[i]!);
  return out;
}
