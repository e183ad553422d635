/** A locale file's shape with every string widened: English must have exactly zh-CN's keys. */
export type Shape<T> = { [K in keyof T]: T[K] extends string ? string : Shape<T[K]> };
