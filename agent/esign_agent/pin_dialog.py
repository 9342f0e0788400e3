"""The agent's PIN window (child process; see pin_prompt.py). Reads the question as JSON on
stdin, writes the PIN on stdout and exits 0, or exits 1 when the holder cancels."""

from __future__ import annotations

import json
import sys


def main() -> int:
    question = json.loads(sys.stdin.read())
    import tkinter as tk  # imported late: only this process needs a display

    root = tk.Tk()
    root.title("e-imza: PIN")
    root.resizable(False, False)
    root.attributes("-topmost", True)
    lines = [f"{question['origin']}", "kartınızla imza atmak istiyor.", ""]
    lines.append(f"Kart: {question['token_label']}")
    if question.get("holder_name"):
        lines.append(f"Sertifika: {question['holder_name']}")
    tk.Label(root, text="\n".join(lines), justify="left").pack(padx=16, pady=(16, 4), anchor="w")
    if question.get("final_try"):
        tk.Label(root, text="Son deneme: yanlış PIN kartı kilitler.", fg="#b00020", justify="left").pack(
            padx=16, anchor="w"
        )
    entry = tk.Entry(root, show="•", width=24)
    entry.pack(padx=16, pady=8)
    entry.focus_force()
    result: dict[str, str] = {}

    def accept(_event: object = None) -> None:
        result["pin"] = entry.get()
        root.destroy()

    buttons = tk.Frame(root)
    buttons.pack(padx=16, pady=(0, 16), anchor="e")
    tk.Button(buttons, text="Vazgeç", command=root.destroy).pack(side="right", padx=(8, 0))
    tk.Button(buttons, text="İmzala", command=accept).pack(side="right")
    root.bind("<Return>", accept)
    root.bind("<Escape>", lambda _event: root.destroy())
    root.mainloop()
    if not result.get("pin"):
        return 1
    sys.stdout.write(result["pin"] + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
