// Next's generated next-env.d.ts is git-ignored; these references let `tsc` check the app on a clean
// clone before the first `next build`.
/// <reference types="next" />
/// <reference types="next/image-types/global" />
