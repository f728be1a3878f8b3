"""Text-line images our own code draws, with their text: calibration and checking data for INT8.

Static quantization has to see activations like the ones real pages produce, and the accuracy
check has to compare against known text, so both come from here and never from the evaluation
sets. Lines are drawn with the fonts PyMuPDF carries inside its package (Droid Sans Fallback for
Chinese, the Base-14 clones for Latin text), so nothing has to exist on disk, at sizes, colours
and degradations (blur, sensor noise, JPEG, low resolution, tilt) seen in scans and photos,
and cropped with the margin the detector leaves around a line.

The text mixes document vocabulary (invoices, contracts, forms), the 3755 most common Chinese
characters (GB2312 level 1, decoded from the codec rather than stored here), English words,
numbers, dates, amounts and codes. Everything is seeded: the same seed draws the same pixels.
"""

from __future__ import annotations

import io
import string
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CJK_FONT = "china-s"
LATIN_FONTS = ("helv", "hebo", "tiro", "tibo", "tiit", "cour")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Words and phrases seen on Chinese business documents (invoices, contracts, forms, notices).
CHINESE_WORDS = _words(
    "发票 增值税 普通发票 专用发票 发票代码 发票号码 开票日期 校验码 机器编号 购买方 销售方 名称 纳税人识别号 "
    "地址 电话 开户行 账号 货物 应税劳务 服务名称 规格型号 单位 数量 单价 金额 税率 税额 合计 价税合计 大写 "
    "小写 备注 收款人 复核 开票人 合同 甲方 乙方 丙方 第一条 第二条 第三条 签订 日期 地点 有效期 违约责任 "
    "争议解决 双方 协商 一致 本合同 自 之日起 生效 一式两份 各执一份 具有 同等 法律效力 有限公司 股份有限公司 "
    "科技 贸易 实业 集团 上海 北京 深圳 广州 杭州 南京 成都 武汉 天津 重庆 省 市 区 县 路 号 楼 室 "
    "申请表 姓名 性别 出生日期 身份证号 联系方式 工作单位 职务 学历 专业 签字 盖章 年 月 日 "
    "通知 关于 进一步 加强 管理 工作 的 意见 各部门 单位 根据 有关 规定 现将 事项 通知如下 请 遵照执行 "
    "数据 安全 法 第 章 总则 为了 规范 处理 活动 保障 促进 开发利用 保护 个人 组织 合法权益 维护 国家 主权 "
    "用户 手册 说明书 产品 型号 参数 电源 电压 接口 连接 设置 步骤 注意事项 警告 版本 更新 说明 目录 页 "
    "报告 分析 结果 统计 季度 年度 收入 支出 利润 同比 增长 下降 百分比 预算 审批 部门 负责人 经办人 "
    "人民币 元 角 分 整 壹 贰 叁 肆 伍 陆 柒 捌 玖 拾 佰 仟 万 亿 零 订单 编号 客户 供应商 交货 运输 "
    "行程单 出租车 里程 上车 下车 时间 费用 乘客 司机 车牌号 起点 终点 微信 支付宝 银行卡 现金 支付"
)

ENGLISH_WORDS = _words(
    "the of and to in for is on that by this with from at as be are was it an or not have will your can "
    "invoice total amount tax date number order customer payment due bill of lading shipper consignee port "
    "vessel container weight description quantity unit price subtotal balance account bank address phone "
    "email name company limited corporation street road city province country code reference page section "
    "agreement party parties shall hereby terms conditions effective period signature approved request "
    "change form project manager department version revision document user manual device board pin power "
    "supply voltage current interface connect setting memo from subject please note meeting schedule "
    "survey question answer yes no strongly agree disagree neutral other comments thank you"
)

PUNCTUATION_ZH = "，。：；、（）《》“”！？"
PUNCTUATION_EN = ".,:;()-/#%&"


@cache
def common_chinese_characters() -> str:
    """GB2312 level 1: the 3755 most used simplified characters, in the codec's (pinyin) order."""
    chars = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # the last row is not full
    return "".join(chars)


@cache
def _font_bytes(name: str) -> bytes:
    import pymupdf

    return pymupdf.Font(name).buffer


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(io.BytesIO(_font_bytes(name)), size)


@dataclass(frozen=True)
class TextLineSample:
    image: np.ndarray  # BGR uint8, cropped around the line like a detector box
    text: str


def _is_cjk(char: str) -> bool:
    return ord(char) >= 0x2E80


class LineTextGenerator:
    """Random but plausible line texts: Chinese, English, mixed, numeric fields."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.common = common_chinese_characters()

    def _pick(self, items: tuple[str, ...] | list[str] | str) -> str:
        return items[int(self.rng.integers(len(items)))]

    def chinese(self) -> str:
        parts = []
        for _ in range(int(self.rng.integers(2, 9))):
            if self.rng.random() < 0.6:
                parts.append(self._pick(CHINESE_WORDS))
            else:
                parts.append("".join(self._pick(self.common) for _ in range(int(self.rng.integers(1, 4)))))
            if self.rng.random() < 0.15:
                parts.append(self._pick(PUNCTUATION_ZH))
        return "".join(parts)

    def english(self) -> str:
        words = [self._pick(ENGLISH_WORDS) for _ in range(int(self.rng.integers(2, 9)))]
        words = [w.capitalize() if self.rng.random() < 0.25 else w for w in words]
        if self.rng.random() < 0.15:
            words = [w.upper() for w in words]
        text = " ".join(words)
        if self.rng.random() < 0.3:
            text += self._pick(PUNCTUATION_EN)
        return text

    def field(self) -> str:
        """A labelled value as forms and invoices print them."""
        kind = int(self.rng.integers(5))
        label = self._pick(CHINESE_WORDS) if self.rng.random() < 0.6 else self._pick(ENGLISH_WORDS).capitalize()
        if kind == 0:
            value = f"{self.rng.integers(1990, 2031)}年{self.rng.integers(1, 13):02d}月{self.rng.integers(1, 29):02d}日"
        elif kind == 1:
            value = f"¥{self.rng.integers(1, 99999):,}.{self.rng.integers(0, 100):02d}"
        elif kind == 2:
            value = "".join(self._pick(string.digits) for _ in range(int(self.rng.integers(6, 19))))
        elif kind == 3:
            value = "".join(
                self._pick(string.ascii_uppercase + string.digits) for _ in range(int(self.rng.integers(6, 18)))
            )
        else:
            value = f"{self.rng.integers(1, 1000)}.{self.rng.integers(0, 100):02d}%"
        separator = self._pick((": ", "：", " ", ":"))
        return f"{label}{separator}{value}"

    def mixed(self) -> str:
        return f"{self.chinese()} {self.english()}" if self.rng.random() < 0.5 else f"{self.english()} {self.chinese()}"

    def line(self) -> str:
        roll = self.rng.random()
        if roll < 0.45:
            return self.chinese()
        if roll < 0.65:
            return self.english()
        if roll < 0.85:
            return self.field()
        return self.mixed()


def _runs(text: str) -> list[tuple[str, bool]]:
    """Split into runs of CJK / non-CJK characters (the Latin fonts have no CJK glyphs)."""
    runs: list[tuple[str, bool]] = []
    for char in text:
        cjk = _is_cjk(char)
        if runs and runs[-1][1] == cjk:
            runs[-1] = (runs[-1][0] + char, cjk)
        else:
            runs.append((char, cjk))
    return runs


def draw_line(
    text: str, *, height: int, latin_font: str, bold: bool, ink: tuple[int, int, int], paper: tuple[int, int, int]
) -> np.ndarray:
    """The text on a plain background, tightly cropped with a detector-like margin; BGR uint8."""
    size = max(8, height)
    stroke = 1 if bold and size >= 18 else 0
    pieces = []
    for run, cjk in _runs(text):
        font = _font(CJK_FONT if cjk or latin_font == CJK_FONT else latin_font, size)
        pieces.append((run, font, font.getlength(run)))
    width = int(sum(length for _, _, length in pieces)) + 2 * stroke + 2
    canvas = Image.new("RGB", (width + size, int(size * 1.6)), paper)
    pen = ImageDraw.Draw(canvas)
    x = size / 2
    for run, font, length in pieces:
        pen.text((x, size * 0.3), run, font=font, fill=ink, stroke_width=stroke, stroke_fill=ink)
        x += length
    pixels = np.asarray(canvas)[:, :, ::-1]
    ink_mask = np.abs(pixels.astype(np.int16) - np.array(paper[::-1], dtype=np.int16)).sum(axis=2) > 40
    rows, cols = np.nonzero(ink_mask.any(axis=1))[0], np.nonzero(ink_mask.any(axis=0))[0]
    if len(rows) == 0:
        return np.ascontiguousarray(pixels)
    return np.ascontiguousarray(pixels[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


def _with_margin(image: np.ndarray, rng: np.random.Generator, paper: tuple[int, int, int]) -> np.ndarray:
    """The margin a DB detector's unclipped box leaves: a fraction of the text height on each side."""
    h = image.shape[0]
    top, bottom = (int(h * rng.uniform(0.08, 0.35)) for _ in range(2))
    left, right = (int(h * rng.uniform(0.05, 0.45)) for _ in range(2))
    return cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=paper[::-1])


def degrade(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Scan and photo damage, each applied with some probability."""
    out = image
    if rng.random() < 0.3:  # slight tilt left over after the detector's rectification
        h, w = out.shape[:2]
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-1.5, 1.5)), 1.0)
        out = cv2.warpAffine(out, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.3:  # low-resolution capture, scaled back up by the recognizer
        factor = float(rng.uniform(0.4, 0.8))
        small = cv2.resize(out, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.4:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.3, 1.2)))
    if rng.random() < 0.5:
        noise = rng.normal(0.0, float(rng.uniform(2, 12)), out.shape)
        out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 95))])
        if ok:
            out = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return out


def _colours(rng: np.random.Generator) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(ink, paper) as RGB: mostly dark on light, some coloured print, a few light-on-dark."""
    roll = rng.random()
    if roll < 0.7:
        level = int(rng.integers(0, 90))
        ink = (level, level, level)
        paper_level = int(rng.integers(190, 256))
        paper = (paper_level, paper_level, int(min(255, paper_level + rng.integers(-15, 5))))
    elif roll < 0.92:
        ink = tuple(int(v) for v in rng.integers(0, 140, 3))  # blue/red/brown print
        paper = tuple(int(v) for v in rng.integers(200, 256, 3))
    else:
        ink = tuple(int(v) for v in rng.integers(200, 256, 3))
        paper = tuple(int(v) for v in rng.integers(0, 100, 3))
    return ink, paper  # type: ignore[return-value]


def text_line_samples(count: int, seed: int) -> list[TextLineSample]:
    """``count`` line images with their text, the same for the same seed."""
    rng = np.random.default_rng(seed)
    texts = LineTextGenerator(rng)
    samples = []
    for _ in range(count):
        text = texts.line()
        ink, paper = _colours(rng)
        latin = CJK_FONT if rng.random() < 0.3 else str(rng.choice(LATIN_FONTS))
        height = int(rng.choice([14, 18, 22, 26, 30, 36, 44, 56, 72]))
        image = draw_line(text, height=height, latin_font=latin, bold=rng.random() < 0.2, ink=ink, paper=paper)
        image = degrade(_with_margin(image, rng, paper), rng)
        samples.append(TextLineSample(image, text))
    return samples
