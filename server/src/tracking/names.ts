import { randomInt } from 'node:crypto';

// Short, friendly run names in MLflow's adjective-animal-NNN style (our own word lists).
const ADJECTIVES = ['amber', 'bold', 'brisk', 'calm', 'clever', 'crisp', 'daring', 'eager', 'fancy', 'gentle', 'glad', 'grand', 'happy', 'keen', 'lively', 'lucky', 'mellow', 'nimble', 'polite', 'proud', 'quick', 'quiet', 'rare', 'sharp', 'shy', 'silver', 'smart', 'steady', 'sunny', 'swift', 'tidy', 'vivid', 'warm', 'wise', 'witty', 'zesty'];
const ANIMALS = ['badger', 'bat', 'bear', 'bee', 'crab', 'crane', 'deer', 'dove', 'eel', 'elk', 'finch', 'fox', 'frog', 'goat', 'hare', 'hawk', 'heron', 'ibis', 'jay', 'koala', 'lark', 'lynx', 'mole', 'moth', 'newt', 'otter', 'owl', 'panda', 'quail', 'ram', 'seal', 'shrew', 'snail', 'swan', 'toad', 'trout', 'wasp', 'whale', 'wolf', 'yak'];

export function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${ANIMALS[randomInt(ANIMALS.length)]}-${randomInt(1000)}`;
}
