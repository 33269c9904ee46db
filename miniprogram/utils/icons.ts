/**
 * Icons drawn as SVG data URIs: emoji and font glyphs differ from phone to phone, and a package
 * of image files would cost more than these few lines.
 */
function svgIcon(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${svg.replace(/</g, '%3C').replace(/>/g, '%3E').replace(/#/g, '%23')}`;
}

const STROKE = "fill='none' stroke='#191919' stroke-width='1.6' stroke-linecap='round' stroke-linejoin='round'";

/** The input bar's switch to 按住 说话: a speaker's waves in a circle, as WeChat draws it. */
export const VOICE_ICON = svgIcon(
  `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 28 28' ${STROKE}>` +
    "<circle cx='14' cy='14' r='12.2'/>" +
    "<path d='M11.2 12.6a2 2 0 0 1 0 2.8'/><path d='M13.8 10.2a5.4 5.4 0 0 1 0 7.6'/>" +
    "<path d='M16.4 7.8a8.8 8.8 0 0 1 0 12.4'/></svg>",
);

/** Back to typing: a keyboard in a circle. */
export const KEYBOARD_ICON = svgIcon(
  `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 28 28' ${STROKE}>` +
    "<circle cx='14' cy='14' r='12.2'/><rect x='7.5' y='9.5' width='13' height='9' rx='1.5'/>" +
    "<path d='M10 12.5h.01M12.7 12.5h.01M15.3 12.5h.01M18 12.5h.01M10.8 15.8h6.4'/></svg>",
);
