from . import random_password_mail
