"""The drawing half of the printable forms (fpdf2): imported only when a PDF is drawn, because
fpdf2 and what it loads cost about 24 MiB of resident memory in every applications process that
never draws one (see docs/benchmarks.md, memory)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from fpdf import FPDF

from services.applications.adapters.form_pdf import (
    _FONT_FAMILY,
    _GREY,
    _LABEL_WIDTH,
    _LINE_HEIGHT,
    _MARGIN,
    _ROW_PADDING,
    _RULE_GREY,
    _SECTION_FILL,
    COMMITMENT_CLOSING,
    COMMITMENT_INTRO,
    COMMITMENT_ITEMS,
    FORM_TITLE,
    FORM_TITLE_EN,
    INSTRUCTIONS,
    _font_paths,
)
from services.applications.adapters.pades import REQUEST_TITLE, REQUEST_TITLE_EN


class FormPdf(FPDF):
    def __init__(self, reference: str, font_dir: Path) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._reference = reference
        for style, path in _font_paths(font_dir).items():
            self.add_font(_FONT_FAMILY, style, path)
        self.set_margins(_MARGIN, 15, _MARGIN)
        self.set_auto_page_break(auto=True, margin=20)

    def footer(self) -> None:
        self.set_y(-14)
        self._font(7.5, colour=_GREY)
        self.cell(self.epw / 2, 5, f"Başvuru No / Reference: {self._reference}")
        self.cell(self.epw / 2, 5, f"Sayfa / Page {self.page_no()}/{{nb}}", align="R")

    def _font(self, size: float, bold: bool = False, colour: tuple[int, int, int] = (0, 0, 0)) -> None:
        self.set_font(_FONT_FAMILY, "B" if bold else "", size)
        self.set_text_color(*colour)

    def paragraph(self, text: str, line_height: float, align: str = "J") -> None:
        """Text wrapped from the current x to the right margin, then a new line."""
        self.multi_cell(0, line_height, text, align=align, new_x="LMARGIN", new_y="NEXT")

    def title_block(self, institution: str) -> None:
        self._font(14, bold=True)
        self.paragraph(FORM_TITLE, 8, align="C")
        self._font(9, colour=_GREY)
        self.paragraph(FORM_TITLE_EN, 5, align="C")
        self.ln(3)
        self._font(9)
        self.paragraph(INSTRUCTIONS, 4.5, align="C")
        self.ln(2)
        self.field_row("Kurum", "Institution", institution)
        self.field_row("Başvuru No", "Reference", self._reference)

    def section(self, number: int, turkish: str, english: str) -> None:
        # Keep a heading together with at least its first row.
        if self.will_page_break(22):
            self.add_page()
        self.ln(3)
        self.set_fill_color(*_SECTION_FILL)
        self._font(10, bold=True)
        self.cell(0, 7, f" {number}. {turkish}", fill=True)
        self.set_x(self.l_margin)
        self._font(8, colour=_GREY)
        self.cell(0, 7, f"{english} ", align="R", new_x="LMARGIN", new_y="NEXT")

    def field_row(self, turkish: str, english: str, value: str) -> None:
        """A bold Turkish label over a small English one, the value beside them."""
        value_width = self.epw - _LABEL_WIDTH
        self._font(10)
        # fpdf2 types the answer as every output mode's union; output="LINES" is the list of lines.
        value_lines = cast(list[str], self.multi_cell(value_width, _LINE_HEIGHT, value, dry_run=True, output="LINES"))
        height = max(2, len(value_lines)) * _LINE_HEIGHT + 2 * _ROW_PADDING
        if self.will_page_break(height):
            self.add_page()
        top = self.get_y()
        self.set_xy(self.l_margin, top + _ROW_PADDING)
        self._font(8.5, bold=True)
        self.cell(_LABEL_WIDTH, _LINE_HEIGHT, turkish, new_x="LMARGIN", new_y="NEXT")
        self._font(7, colour=_GREY)
        self.cell(_LABEL_WIDTH, _LINE_HEIGHT - 1, english)
        self.set_xy(self.l_margin + _LABEL_WIDTH, top + _ROW_PADDING)
        self._font(10)
        self.multi_cell(value_width, _LINE_HEIGHT, value)
        self.set_y(top + height)
        self.set_draw_color(*_RULE_GREY)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())

    def checkbox_statement(self, checked: bool, statement: str, translation: str) -> None:
        box, gap = 4.5, 3
        top = self.get_y() + 2
        self.set_draw_color(0, 0, 0)
        self.rect(self.l_margin, top, box, box)
        if checked:
            self._font(10, bold=True)
            self.set_xy(self.l_margin, top)
            self.cell(box, box, "X", align="C")
        self.set_xy(self.l_margin + box + gap, top)
        self._font(10, bold=True)
        self.paragraph(statement, _LINE_HEIGHT, align="L")
        self.set_x(self.l_margin + box + gap)
        self._font(8, colour=_GREY)
        self.paragraph(translation, 4, align="L")

    def commitment(self) -> None:
        self._font(9.5)
        self.ln(2)
        self.paragraph(COMMITMENT_INTRO, _LINE_HEIGHT)
        indent = 7
        for number, item in enumerate(COMMITMENT_ITEMS, start=1):
            self.ln(1)
            self.cell(indent, _LINE_HEIGHT, f"{number}.")
            self.paragraph(item, _LINE_HEIGHT)
        self.ln(1.5)
        self.paragraph(COMMITMENT_CLOSING, _LINE_HEIGHT)

    def signature_block(self, full_name: str) -> None:
        height = 36
        if self.will_page_break(height + 6):
            self.add_page()
        self.ln(6)
        top = self.get_y()
        column = self.epw / 2
        self.set_draw_color(0, 0, 0)
        self.rect(self.l_margin, top, self.epw, height)
        self.line(self.l_margin + column, top, self.l_margin + column, top + height)
        self.set_xy(self.l_margin + 3, top + 3)
        self._font(8.5, bold=True)
        self.cell(column - 6, _LINE_HEIGHT, "Başvuru Sahibi / Applicant", new_x="LEFT", new_y="NEXT")
        self._font(10)
        self.cell(column - 6, 7, full_name, new_x="LEFT", new_y="NEXT")
        for label in ("Tarih / Date:", "Yer / Place:"):
            self._font(8.5)
            self.cell(column - 6, 9, f"{label} " + "." * 40, new_x="LEFT", new_y="NEXT")
        self.set_xy(self.l_margin + column + 3, top + 3)
        self._font(8.5, bold=True)
        self.cell(column - 6, _LINE_HEIGHT, "İmza / Signature")
        self.set_y(top + height)


class RequestPdf(FormPdf):
    """The renewal request (services.applications.adapters.pades): the form's layout, its own title."""

    def title_block(self, institution: str) -> None:
        self._font(14, bold=True)
        self.paragraph(REQUEST_TITLE, 8, align="C")
        self._font(9, colour=(110, 110, 110))
        self.paragraph(REQUEST_TITLE_EN, 5, align="C")
        self.ln(3)
        self.field_row("Kurum", "Institution", institution)
        self.field_row("Yenileme No", "Renewal reference", self._reference)
