export function findBrokenWords(tokens: string[]): string[];
export function horizontalOverflow(): number;
