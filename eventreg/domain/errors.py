"""Domain errors carry a stable snake_case code; the web layer turns it into words."""


class DomainError(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
