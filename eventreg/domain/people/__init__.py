"""People as they type themselves: text cleaning, names, furigana, the registration form's fields."""
